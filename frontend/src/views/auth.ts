// Sign-up, email verification, login and password reset (all anonymous /v1/auth endpoints).

import { ApiError, type NewToken, post, session } from "../api";
import { field, formValues, h } from "../dom";
import { currentQuery, href, navigate } from "../router";
import { onSubmit, page, statusLine } from "../ui";

export function signUpView(): Node {
  const status = statusLine();
  const form = onSubmit(
    h("form", { class: "card narrow", "aria-describedby": "signup-help" },
      field("Name", { name: "name", autocomplete: "name" }),
      field("Email", { name: "email", type: "email", required: true, autocomplete: "email" }),
      field("Password", { name: "password", type: "password", required: true, minlength: 10, autocomplete: "new-password" }, "At least 10 characters."),
      h("button", { type: "submit" }, "Create account"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      await post("auth/sign_up", { email: v.email, password: v.password, name: v.name });
      sessionStorage.setItem("strata.pendingEmail", v.email ?? "");
      navigate("/verify");
    },
  );
  return page("Create your Strata account",
    h("p", { id: "signup-help" }, "Already have an account? ", h("a", { href: href("/login") }, "Log in")),
    form,
  );
}

async function verify(token: string): Promise<void> {
  await post("auth/verify_email", { token: token.trim() });
  sessionStorage.setItem("strata.flash", "Email verified. Log in to continue.");
  navigate("/login");
}

export async function verifyView(): Promise<Node> {
  const status = statusLine();
  const email = sessionStorage.getItem("strata.pendingEmail") ?? "";
  const linked = currentQuery().get("token");
  if (linked) {
    // The link in the email: verify at once, fall back to the form if the token is refused.
    try {
      await verify(linked);
      return page("Verify your email", h("p", {}, "Email verified."));
    } catch (err) {
      status.fail(err);
    }
  }
  const form = onSubmit(
    h("form", { class: "card narrow" },
      field("Verification token", { name: "token", required: true, autocomplete: "one-time-code" }, "Paste the token from the email we sent you."),
      h("button", { type: "submit" }, "Verify email"),
      status.el,
    ),
    status,
    async (f) => verify(formValues(f).token ?? ""),
  );
  return page("Verify your email",
    h("p", {}, email ? `We sent a verification token to ${email}.` : "Enter the token from your verification email."),
    form,
  );
}

async function logIn(email: string, password: string): Promise<void> {
  const token = await post<NewToken>("auth/login", { email, password, tokenName: "console" });
  session.set(token.accessToken, email);
  sessionStorage.removeItem("strata.pendingEmail");
  const back = sessionStorage.getItem("strata.returnTo");
  sessionStorage.removeItem("strata.returnTo");
  navigate(back ?? "/");
}

export function loginView(): Node {
  const status = statusLine();
  const flash = sessionStorage.getItem("strata.flash");
  sessionStorage.removeItem("strata.flash");
  if (flash) status.ok(flash);
  const pending = sessionStorage.getItem("strata.pendingEmail") ?? "";
  const form = onSubmit(
    h("form", { class: "card narrow" },
      field("Email", { name: "email", type: "email", required: true, autocomplete: "email", value: pending }),
      field("Password", { name: "password", type: "password", required: true, autocomplete: "current-password" }),
      h("button", { type: "submit" }, "Log in"),
      status.el,
    ),
    status,
    async (f) => {
      const v = formValues(f);
      try {
        await logIn(v.email ?? "", v.password ?? "");
      } catch (err) {
        if (err instanceof ApiError && err.code === "EmailNotVerified") {
          sessionStorage.setItem("strata.pendingEmail", v.email ?? "");
          navigate("/verify");
          return;
        }
        throw err;
      }
    },
  );
  return page("Log in to Strata",
    h("p", {}, "New here? ", h("a", { href: href("/signup") }, "Create an account"), " · ",
      h("a", { href: href("/reset") }, "Forgot your password?")),
    form,
  );
}

export function resetView(): Node {
  const requestStatus = statusLine();
  const resetStatus = statusLine();
  const request = onSubmit(
    h("form", { class: "card narrow", "aria-labelledby": "reset-req" },
      h("h2", { id: "reset-req" }, "1. Get a reset token"),
      field("Email", { name: "email", type: "email", required: true, autocomplete: "email" }),
      h("button", { type: "submit" }, "Email me a token"),
      requestStatus.el,
    ),
    requestStatus,
    async (f) => {
      await post("auth/request_password_reset", { email: formValues(f).email });
      requestStatus.ok("If that account exists, a reset token is on its way.");
    },
  );
  const reset = onSubmit(
    h("form", { class: "card narrow", "aria-labelledby": "reset-set" },
      h("h2", { id: "reset-set" }, "2. Choose a new password"),
      field("Reset token", { name: "token", required: true, value: currentQuery().get("token") ?? "" }),
      field("New password", { name: "password", type: "password", required: true, minlength: 10, autocomplete: "new-password" }),
      h("button", { type: "submit" }, "Set password"),
      resetStatus.el,
    ),
    resetStatus,
    async (f) => {
      const v = formValues(f);
      await post("auth/reset_password", { token: (v.token ?? "").trim(), password: v.password });
      resetStatus.ok("Password changed. You can log in now.");
    },
  );
  return page("Reset your password", request, reset, h("p", {}, h("a", { href: href("/login") }, "Back to log in")));
}
