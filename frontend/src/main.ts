// Entry point: layout, routes, the login guard, and focus management on navigation.

import "./style.css";
import { session, setUnauthorizedHandler } from "./api";
import { announce, h, replace } from "./dom";
import { currentLocation, currentPath, href, match, navigate, route } from "./router";
import { errorText } from "./ui";
import { loginView, resetView, signUpView, verifyView } from "./views/auth";
import { closeLiveClient, leavePanel } from "./views/dashboard";
import { dataView } from "./views/data";
import { filesView, functionsView, logsView, schedulesView, schemaView, snapshotsView } from "./views/panels";
import { deploymentView, projectView } from "./views/projects";
import { accountView, acceptInviteView, membersView, teamTokensView, teamView, teamsView } from "./views/teams";
import { auditView } from "./views/audit";
import { healthView } from "./views/health";
import { usageView } from "./views/usage";

const PUBLIC = new Set(["/login", "/signup", "/verify", "/reset"]);

route("/login", loginView);
route("/signup", signUpView);
route("/verify", verifyView);
route("/reset", resetView);
route("/", teamsView);
route("/account", accountView);
route("/invites/accept", acceptInviteView);
route("/teams/:teamId", (p) => teamView({ teamId: p.teamId ?? "" }));
route("/teams/:teamId/members", (p) => membersView({ teamId: p.teamId ?? "" }));
route("/teams/:teamId/tokens", (p) => teamTokensView({ teamId: p.teamId ?? "" }));
route("/teams/:teamId/usage", (p) => usageView({ teamId: p.teamId ?? "" }));
route("/teams/:teamId/audit", (p) => auditView({ teamId: p.teamId ?? "" }));
route("/projects/:projectId", (p) => projectView({ projectId: p.projectId ?? "" }));
route("/deployments/:name", (p) => deploymentView({ name: p.name ?? "" }));
const panels = { health: healthView, data: dataView, functions: functionsView, logs: logsView, schedules: schedulesView, files: filesView, schema: schemaView, snapshots: snapshotsView };
for (const [path, view] of Object.entries(panels)) {
  route(`/deployments/:name/${path}`, (p) => view({ name: p.name ?? "" }));
}

const app = document.getElementById("app") as HTMLElement;
const main = h("main", { id: "main", tabindex: -1 });
const nav = h("nav", { class: "topnav", "aria-label": "Main" });
const header = h("header", { class: "top" },
  h("a", { class: "brand", href: href("/") }, "Strata"),
  h("button", { type: "button", class: "menu-toggle secondary", "aria-expanded": "false", "aria-controls": "topnav-list" }, "Menu"),
  nav,
);
app.append(header, main);

const toggle = header.querySelector<HTMLButtonElement>(".menu-toggle");
toggle?.addEventListener("click", () => {
  const open = toggle.getAttribute("aria-expanded") !== "true";
  toggle.setAttribute("aria-expanded", String(open));
  nav.classList.toggle("open", open);
});

function renderNav(): void {
  const path = currentPath();
  const link = (to: string, text: string): HTMLElement =>
    h("li", {}, h("a", { href: href(to), "aria-current": path === to ? "page" : null }, text));
  replace(nav, session.token
    ? h("ul", { id: "topnav-list" },
        link("/", "Teams"),
        link("/account", "Account"),
        h("li", {}, h("span", { class: "muted", "data-testid": "signed-in-as" }, session.email ?? "")),
        h("li", {}, h("button", { type: "button", class: "link", onclick: logOut }, "Log out")))
    : h("ul", { id: "topnav-list" }, link("/login", "Log in"), link("/signup", "Sign up")));
}

function logOut(): void {
  session.clear();
  closeLiveClient();
  navigate("/login");
  announce("Logged out");
}

setUnauthorizedHandler(() => {
  session.clear();
  closeLiveClient();
  navigate("/login");
});

let renderSeq = 0;
async function render(): Promise<void> {
  const seq = ++renderSeq;
  const path = currentPath();
  leavePanel();
  if (!path.startsWith("/deployments/")) closeLiveClient();
  toggle?.setAttribute("aria-expanded", "false");
  nav.classList.remove("open");
  if (!session.token && !PUBLIC.has(path)) {
    if (path !== "/") sessionStorage.setItem("strata.returnTo", currentLocation());
    navigate("/login");
    return;
  }
  if (session.token && (path === "/login" || path === "/signup")) {
    navigate("/");
    return;
  }
  renderNav();
  const found = match(path);
  main.setAttribute("aria-busy", "true");
  let content: Node;
  try {
    content = found ? await found.view(found.params) : h("section", {}, h("h1", { id: "page-title", tabindex: -1 }, "Page not found"), h("p", {}, h("a", { href: href("/") }, "Go to your teams")));
  } catch (err) {
    content = h("section", {}, h("h1", { id: "page-title", tabindex: -1 }, "Something went wrong"), h("p", { class: "status error", role: "alert" }, errorText(err)));
  }
  if (seq !== renderSeq) return; // a newer navigation won
  main.removeAttribute("aria-busy");
  replace(main, content);
  const title = main.querySelector<HTMLElement>("#page-title");
  title?.focus();
  announce(title?.textContent ?? "");
}

document.querySelector(".skip-link")?.addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});
window.addEventListener("hashchange", () => void render());
void render();
