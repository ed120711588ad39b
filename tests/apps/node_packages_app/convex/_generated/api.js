/* Hand-written equivalent of `npx convex codegen` output. */
import { anyApi } from "convex/server";

export const api = anyApi;
export const internal = anyApi;
