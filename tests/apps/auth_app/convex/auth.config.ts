// Convex Auth's standard setup: the deployment issues its own tokens, under its site URL.
export default {
  providers: [
    {
      domain: process.env.CONVEX_SITE_URL,
      applicationID: "convex",
    },
  ],
};
