// Browser scenarios for the web console, driven by playwright-core in Debian's Chromium.
// Run by tests/e2e (pytest), which starts the control plane and passes everything via env.
// Prints `RESULT <json>` on success; any failed expectation exits non-zero with a screenshot.
import { createRequire } from "node:module";
import { readFileSync, mkdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";

const env = process.env;
const require = createRequire(path.join(env.STRATA_FRONTEND_DIR, "package.json"));
const { chromium } = require("playwright-core");

const BASE = env.STRATA_E2E_BASE;
const TIMEOUT = 60_000;
const PASSWORD = "a-long-enough-password-42";

function fail(message) {
  throw new Error(message);
}

async function waitFor(predicate, what, timeoutMs = TIMEOUT) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The verification link the console email backend printed for `email`. */
function verificationLink(email) {
  const log = readFileSync(env.STRATA_E2E_MAIL_LOG, "utf8");
  const blocks = log.split(/^-{10,}$/m).filter((b) => b.includes(`To: ${email}`));
  const last = blocks.at(-1);
  const m = last && /Verify your email address by opening this link:\s*\n\s*\n(\S+)/.exec(last);
  return m ? m[1] : null;
}

async function expectFocusedHeading(page, name) {
  await page.getByRole("heading", { level: 1, name }).waitFor({ timeout: TIMEOUT });
  const focused = await page.evaluate(() => document.activeElement?.id);
  if (focused !== "page-title") fail(`focus after navigation is on #${focused}, not the page title`);
}

async function signUpAndLogIn(page, email) {
  await page.goto(`${BASE}/`);
  await expectFocusedHeading(page, "Log in to Strata");
  await shot(page, "login");
  await page.getByRole("link", { name: "Create an account" }).click();
  await expectFocusedHeading(page, "Create your Strata account");
  await shot(page, "sign-up");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Create account" }).click();
  await expectFocusedHeading(page, "Verify your email");
  const link = await waitFor(() => verificationLink(email), "the verification email");
  if (!link.startsWith(`${BASE}/#/verify?token=`)) fail(`the email links elsewhere: ${link}`);
  await page.goto(link); // the link verifies at once: no token to paste
  await expectFocusedHeading(page, "Log in to Strata");
  await page.getByText("Email verified").waitFor();
  if ((await page.getByLabel("Email").inputValue()) !== email) fail("login email not prefilled");
  // Keyboard only: type the password and submit with Enter.
  await page.getByLabel("Password").focus();
  await page.keyboard.type(PASSWORD);
  await page.keyboard.press("Enter");
  await expectFocusedHeading(page, "Your teams");
  const who = await page.getByTestId("signed-in-as").textContent();
  if (who !== email) fail(`header shows ${who}, expected ${email}`);
}

async function createTeamProjectDeployment(page, team, project) {
  await page.getByLabel("Team name").fill(team);
  await page.getByRole("button", { name: "Create team" }).click();
  await expectFocusedHeading(page, team);
  await page.getByLabel("Project name").focus();
  await page.keyboard.type(project);
  await page.keyboard.press("Enter"); // submit with the keyboard; first deployment: dev
  // Never a silent wait: progress with the elapsed time and the server's step shows at once.
  await page.getByTestId("provisioning").waitFor({ timeout: TIMEOUT });
  let step = "";
  await waitFor(async () => {
    step = (await page.getByTestId("provisioning-step").textContent().catch(() => step)) || step;
    return (await page.getByTestId("provisioning").count()) === 0;
  }, "the deployment to be provisioned");
  await expectFocusedHeading(page, project);
  const link = page.getByRole("region", { name: "Deployments" }).getByRole("link");
  await link.first().waitFor({ timeout: TIMEOUT });
  if ((await link.count()) !== 1) fail("expected exactly one deployment in the new project");
  const name = (await link.first().textContent()).trim();
  await link.first().click();
  await expectFocusedHeading(page, `Deployment ${name}`);
  const status = (await page.getByTestId("deployment-status").textContent()).trim();
  const url = (await page.getByTestId("deployment-url").textContent()).trim();
  await page.getByLabel("Key name").fill("e2e");
  await page.getByRole("button", { name: "Create deploy key" }).click();
  const key = (await page.getByTestId("new-deploy-key").textContent({ timeout: TIMEOUT })).trim();
  await page.getByRole("region", { name: "Deploy keys" }).getByText("e2e").waitFor();
  await shot(page, "deployment-settings");
  return { name, status, url, key, provisioningStep: step };
}

/** Settings a user changes after creating a deployment: env vars, pause/resume, members,
 * usage and billing, personal tokens (with a confirm dialog). */
async function manageTeamAndDeployment(page, dep) {
  await page.getByRole("textbox", { name: "Name", exact: true }).fill("GREETING");
  await page.getByLabel("Value").fill("hello world");
  await page.getByRole("button", { name: "Save variable" }).click();
  await page.getByRole("region", { name: "Environment variables" }).getByText("hello world").waitFor();
  const badge = page.getByTestId("deployment-status");
  await page.getByRole("button", { name: "Pause" }).click();
  await waitFor(async () => (await badge.textContent()) === "paused", "the paused badge");
  await page.getByRole("button", { name: "Resume" }).click();
  await waitFor(async () => (await badge.textContent()) !== "paused", "the resumed badge");
  const resumed = await badge.textContent();

  await page.getByRole("link", { name: "Teams" }).click();
  await page.getByRole("link", { name: "Acme" }).click();
  await expectFocusedHeading(page, "Acme");
  await page.getByRole("navigation", { name: "Team sections" }).getByRole("link", { name: "Members" }).click();
  await expectFocusedHeading(page, "Acme: members");
  await page.getByLabel("Email", { exact: true }).fill("colleague@example.test");
  await page.getByLabel("Role", { exact: true }).selectOption("viewer");
  await page.getByRole("button", { name: "Send invitation" }).click();
  await page.getByRole("region", { name: "Pending invitations" }).getByText("colleague@example.test").waitFor();
  await shot(page, "team-members");

  await page.getByRole("navigation", { name: "Team sections" }).getByRole("link", { name: "Usage & billing" }).click();
  await expectFocusedHeading(page, "Acme: usage and billing");
  const plan = await page.getByTestId("plan").textContent();
  const usageItems = await page.getByRole("list", { name: /^Usage since/ }).getByRole("listitem").count();
  await page.getByTestId("chart-usage-calls").locator("canvas").waitFor({ timeout: TIMEOUT });
  const usageChartCaption = await page.getByTestId("chart-usage-calls").locator("figcaption").textContent();
  await shot(page, "team-usage-charts");

  await page.getByRole("link", { name: "Account" }).click();
  await expectFocusedHeading(page, "Your account");
  await page.getByLabel("Token name").fill("laptop");
  await page.getByRole("button", { name: "Create token" }).click();
  const pat = (await page.getByTestId("new-token").textContent()).trim();
  const tokens = page.getByRole("region", { name: "Personal access tokens" });
  await tokens.getByText("laptop").waitFor();
  await shot(page, "account-tokens");
  await page.getByRole("button", { name: "Revoke laptop" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByRole("button", { name: "Revoke" }).click();
  await tokens.getByText("laptop").waitFor({ state: "detached" });
  return { resumed, plan, usageItems, usageChartCaption, revokedToken: pat };
}

/** A second (prod) deployment from the console with no reference, deleted; its page then
 * says what happened, with no live forms and no "Could not load" errors. */
async function createAndDeleteProd(page, dep) {
  await page.goto(`${BASE}/#/deployments/${dep.name}`);
  await expectFocusedHeading(page, `Deployment ${dep.name}`);
  await page.getByRole("link", { name: "← Project" }).click();
  await page.getByLabel("Type", { exact: true }).selectOption("prod");
  await page.getByRole("button", { name: "Create deployment" }).click();
  const heading = page.getByRole("heading", { level: 1, name: /^Deployment / });
  await waitFor(async () => {
    const text = (await heading.textContent().catch(() => "")) ?? "";
    return text !== `Deployment ${dep.name}` && text.startsWith("Deployment ") ? text : null;
  }, "the new prod deployment's page");
  const prod = (await heading.textContent()).replace("Deployment ", "").trim();
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete deployment" }).click();
  await page.getByRole("heading", { level: 2, name: "Deployments" }).waitFor({ timeout: TIMEOUT });
  await page.goto(`${BASE}/#/deployments/${prod}`);
  await expectFocusedHeading(page, `Deployment ${prod}`);
  await page.getByTestId("purge-after").waitFor({ timeout: TIMEOUT });
  await page.getByRole("list", { name: /^Usage since/ }).waitFor({ timeout: TIMEOUT });
  const deleted = {
    name: prod,
    status: (await page.getByTestId("deployment-status").textContent()).trim(),
    couldNotLoad: await page.getByText(/Could not load/).count(),
    forms: await page.locator("main form").count(),
    tabs: await page.getByRole("navigation", { name: "Deployment sections" }).count(),
  };
  await page.goto(`${BASE}/#/deployments/${prod}/data`);
  await page.getByText(`Deployment ${prod} is deleted`).waitFor({ timeout: TIMEOUT });
  return deleted;
}

/** The team's audit log page, filtered to deployment actions. */
async function readAuditLog(page) {
  await page.getByRole("link", { name: "Teams" }).click();
  await page.getByRole("link", { name: "Acme" }).click();
  await page.getByRole("navigation", { name: "Team sections" }).getByRole("link", { name: "Audit log" }).click();
  await expectFocusedHeading(page, "Acme: audit log");
  const events = page.getByTestId("audit-events");
  await events.locator("tbody tr").first().waitFor({ timeout: TIMEOUT });
  await page.getByLabel("Action", { exact: true }).selectOption("deployment.");
  await page.getByRole("button", { name: "Filter" }).click();
  await waitFor(async () => {
    const actions = await events.locator("tbody tr td:nth-child(2)").allTextContents();
    return actions.length > 0 && actions.every((a) => a.startsWith("deployment.")) ? actions : null;
  }, "the audit log filtered to deployment actions");
  await shot(page, "audit-log-deployments");
  return await events.locator("tbody tr td:nth-child(2)").allTextContents();
}

async function checkPhoneWidth(context) {
  const page = await context.newPage();
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${BASE}/#/`);
  await expectFocusedHeading(page, "Your teams");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) fail(`page is ${overflow}px wider than a 360px phone screen`);
  const menu = page.getByRole("button", { name: "Menu" });
  if (await page.getByRole("link", { name: "Account" }).isVisible()) fail("nav should collapse at phone width");
  await menu.focus();
  await page.keyboard.press("Enter");
  if ((await menu.getAttribute("aria-expanded")) !== "true") fail("menu did not open with Enter");
  await page.getByRole("link", { name: "Account" }).click();
  await expectFocusedHeading(page, "Your account");
  await page.close();
}

/** The official CLI (`npx convex ...`) against one deployment, offline like tests/compat. */
function convexCli(args, url, key, cwd) {
  const cli = path.join(env.STRATA_REPO_DIR, "node_modules", "convex", "bin", "main.js");
  const childEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("CONVEX_")));
  const r = spawnSync("node", [cli, ...args], {
    cwd,
    env: {
      ...childEnv,
      CONVEX_SELF_HOSTED_URL: url,
      CONVEX_SELF_HOSTED_ADMIN_KEY: key,
      CI: "1",
      CONVEX_VERSION_API_ORIGIN: "http://127.0.0.1:9",
      CONVEX_PROVISION_HOST: "http://127.0.0.1:9",
      NO_COLOR: "1",
      HOME: path.join(cwd, "..", "home"),
    },
    encoding: "utf8",
    timeout: 300_000,
  });
  if (r.status !== 0) fail(`convex ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout + r.stderr;
}

/** Why the data plane cannot run the live-data scenario yet, or null when it can. */
/** Functions tab lists the deployed app; the runner calls a mutation and a query; the Logs
 * tab then shows the mutation's execution with its console.log line. */
async function runFunctionsAndReadLogs(page, dep) {
  const sections = page.getByRole("navigation", { name: "Deployment sections" });
  await sections.getByRole("link", { name: "Functions" }).click();
  await expectFocusedHeading(page, `${dep.name}: functions`);
  const list = page.getByRole("region", { name: "Functions" });
  await list.getByText("messages:send", { exact: true }).waitFor({ timeout: TIMEOUT });
  const listed = await list.locator("tbody tr td:first-child").allTextContents();
  const body = `sent from the runner ${Date.now()}`;
  // Typed fields from the function's validator (v.string() x3), not JSON to write by hand.
  await page.getByLabel("Function", { exact: true }).fill("messages:send");
  const typed = page.getByTestId("args-form");
  await typed.getByLabel(/^channel \(string\)/).fill("console");
  await typed.getByLabel(/^author \(string\)/).fill("me");
  await typed.getByLabel(/^body \(string\)/).fill(body);
  if (await page.getByLabel("Arguments (JSON object)").isVisible()) fail("JSON box shown next to the typed form");
  await shot(page, "functions-typed-args");
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("messages:send (mutation) finished").waitFor({ timeout: TIMEOUT });
  const sentId = JSON.parse(await page.getByTestId("function-result").textContent());
  if (typeof sentId !== "string" || !sentId) fail(`messages:send returned ${sentId}`);
  await page.getByLabel("Function", { exact: true }).fill("messages:list");
  await page.getByLabel("Edit the arguments as JSON").check(); // the JSON escape hatch
  await page.getByLabel("Arguments (JSON object)").fill(JSON.stringify({ channel: "console" }));
  await page.getByRole("button", { name: "Run", exact: true }).click();
  await page.getByText("messages:list (query) finished").waitFor({ timeout: TIMEOUT });
  const rows = JSON.parse(await page.getByTestId("function-result").textContent());
  if (!Array.isArray(rows) || !rows.some((r) => r._id === sentId && r.body === body)) {
    fail(`messages:list did not return the runner's message: ${JSON.stringify(rows)}`);
  }
  await sections.getByRole("link", { name: "Logs" }).click();
  await expectFocusedHeading(page, `${dep.name}: logs`);
  const logs = page.getByTestId("logs");
  await logs.locator("li", { hasText: "messages:send" }).first().waitFor({ timeout: TIMEOUT });
  const logText = await logs.textContent();
  // Filters: by function, by text, by level (no execution failed, so "Failed" shows none).
  const filters = page.getByRole("search", { name: "Filter logs" });
  await filters.getByLabel("Function").fill("messages:list");
  await waitFor(async () => (await logs.locator("li", { hasText: "messages:send" }).count()) === 0, "the function filter");
  const listOnly = await logs.locator("li").count();
  await filters.getByLabel("Function").fill("");
  await filters.getByLabel("Text").fill(body);
  await waitFor(async () => (await logs.locator("li").count()) === 1, "the text filter");
  const byText = await logs.locator("li").first().textContent();
  await shot(page, "logs-filtered-by-text");
  await filters.getByLabel("Text").fill("");
  await filters.getByLabel("Level").selectOption("failed");
  await waitFor(async () => (await logs.locator("li").count()) === 0, "the level filter");
  // Health: charts drawn from the calls just made (messages:send ran once, messages:list once).
  await sections.getByRole("link", { name: "Health" }).click();
  await expectFocusedHeading(page, `${dep.name}: health`);
  const health = page.getByTestId("health");
  await health.getByRole("region", { name: "Functions by calls" }).waitFor({ timeout: TIMEOUT });
  await page.getByTestId("chart-calls").locator("canvas").waitFor({ timeout: TIMEOUT });
  await page.getByTestId("chart-latency").locator("canvas").waitFor({ timeout: TIMEOUT });
  const healthRows = await health.getByRole("region", { name: "Functions by calls" }).locator("tbody tr").allTextContents();
  const callsCaption = await page.getByTestId("chart-calls").locator("figcaption").textContent();
  await shot(page, "health-charts");
  return { listed, sentId, logText, body, listOnly, byText, healthRows, callsCaption };
}

/** Poll the official HTTP client until `check(value)` holds; returns the value. */
async function pollQuery(client, name, args, check, what) {
  let last;
  await waitFor(async () => check((last = await client.query(name, args))), what);
  return last;
}

async function openTab(page, dep, tab, heading) {
  await page.getByRole("navigation", { name: "Deployment sections" }).getByRole("link", { name: tab, exact: true }).click();
  await expectFocusedHeading(page, `${dep.name}: ${heading}`);
}

/** Serious and critical accessibility violations axe-core finds, per page checked. */
const axeFindings = [];
let axeChecked = 0;
async function axeCheck(page, name) {
  if (!(await page.evaluate(() => typeof window.axe !== "undefined"))) {
    // Evaluated through the debugger protocol: the console's CSP rightly refuses script tags.
    await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  }
  const violations = await page.evaluate(async () =>
    (await window.axe.run(document, { resultTypes: ["violations"] })).violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")),
    })));
  axeChecked += 1;
  for (const v of violations) if (v.impact === "serious" || v.impact === "critical") axeFindings.push({ page: name, ...v });
}

/** A full-page screenshot saved by the test run; every page shot is also checked by axe. */
async function shot(page, name) {
  await axeCheck(page, name);
  mkdirSync(env.STRATA_E2E_SHOTS, { recursive: true });
  const file = path.join(env.STRATA_E2E_SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Usage & billing: choose a plan, go through Checkout (Stripe's hosted page is not reachable
 * here, so the page is answered in the browser and the customer pays through localstripe),
 * come back to the console and see the plan, the subscription and the paid invoice. */
async function upgradeThroughCheckout(page) {
  await page.getByRole("link", { name: "Teams" }).click();
  await page.getByRole("link", { name: "Acme" }).click();
  await expectFocusedHeading(page, "Acme");
  await page.getByRole("navigation", { name: "Team sections" }).getByRole("link", { name: "Usage & billing" }).click();
  await expectFocusedHeading(page, "Acme: usage and billing");
  const before = (await page.getByTestId("subscription").textContent()).trim();
  let checkoutUrl = null;
  await page.route("https://checkout.localstripe.test/**", (route) => {
    checkoutUrl = route.request().url();
    return route.fulfill({
      contentType: "text/html",
      body: "<!doctype html><html lang=en><title>Stripe Checkout</title><main><h1>Pay</h1></main></html>",
    });
  });
  await page.getByLabel("Plan", { exact: true }).selectOption("pro");
  await page.getByRole("button", { name: "Continue to checkout" }).click();
  await waitFor(() => checkoutUrl, "the redirect to Stripe Checkout");
  const sessionId = new URL(checkoutUrl).pathname.split("/").pop();
  const stripe = async (method, p) => {
    const r = await fetch(`${env.STRATA_E2E_STRIPE_URL}${p}`, {
      method, headers: { Authorization: `Bearer ${env.STRATA_E2E_STRIPE_KEY}` },
    });
    if (!r.ok) fail(`localstripe ${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const session = await stripe("POST", `/_shim/checkout/sessions/${sessionId}/complete`);
  await page.goto(session.success_url); // Stripe sends the customer back to the console
  await expectFocusedHeading(page, "Acme: usage and billing");
  // localstripe delivers its signed webhooks to the control plane a second or so later.
  let subscription = before;
  await waitFor(async () => {
    subscription = (await page.getByTestId("subscription").textContent()).trim();
    if (subscription.includes("pro, active")) return true;
    await new Promise((r) => setTimeout(r, 500));
    await page.reload();
    await expectFocusedHeading(page, "Acme: usage and billing");
    return false;
  }, "the subscription to show in the console");
  const invoices = page.getByTestId("invoices");
  await invoices.getByRole("cell", { name: "paid" }).waitFor({ timeout: TIMEOUT });
  const billing = {
    before,
    subscription,
    plan: (await page.getByTestId("plan").textContent()).trim(),
    metered: (await page.getByTestId("metered").textContent()).trim(),
    invoiceRows: await invoices.locator("tbody tr").count(),
    checkoutOffered: await page.getByRole("button", { name: "Continue to checkout" }).count(),
    invoicesText: (await invoices.textContent()).trim(),
    checkoutSession: sessionId,
    subscriptionId: session.subscription,
  };
  await shot(page, "team-billing-pro");
  return billing;
}

/** Data tab: add, edit and delete a document in the UI; the official HTTP client sees each. */
async function editDataInBrowser(page, dep, other) {
  await openTab(page, dep, "Data", "data");
  await page.getByRole("button", { name: "tasks", exact: true }).click();
  const docs = page.getByTestId("documents");
  await docs.getByText("seeded by another client").waitFor({ timeout: TIMEOUT });
  const form = page.getByRole("form", { name: "Add a document" });
  await form.getByLabel("Table").fill("tasks");
  await form.getByLabel("Document (JSON object)").fill(JSON.stringify({ text: "added in the console" }));
  await form.getByRole("button", { name: "Add document" }).click();
  await docs.getByText("added in the console").waitFor({ timeout: TIMEOUT });
  const added = (await pollQuery(other, "tasks:list", {}, (r) => r.some((t) => t.text === "added in the console"), "the added task via the API"))
    .find((t) => t.text === "added in the console");
  await page.getByRole("button", { name: `Edit ${added._id}` }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("Fields (JSON)").fill(JSON.stringify({ text: "edited in the console", done: true }));
  await dialog.getByRole("button", { name: "Save" }).click();
  await docs.getByText("edited in the console").waitFor({ timeout: TIMEOUT });
  const edited = (await pollQuery(other, "tasks:list", {}, (r) => r.some((t) => t._id === added._id && t.text === "edited in the console"), "the edit via the API"))
    .find((t) => t._id === added._id);
  // Deleting a field in the editor removes it from the document.
  await page.getByRole("button", { name: `Edit ${added._id}` }).click();
  await page.getByRole("dialog").getByLabel("Fields (JSON)").fill(JSON.stringify({ text: "edited in the console" }));
  await page.getByRole("dialog").getByRole("button", { name: "Save" }).click();
  const stripped = (await pollQuery(other, "tasks:list", {}, (r) => r.some((t) => t._id === added._id && !("done" in t)), "the removed field via the API"))
    .find((t) => t._id === added._id);
  const browse = await browseWithFiltersAndLinks(page, docs, added._id);
  await page.getByRole("button", { name: `Delete ${added._id}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await docs.locator(`tr[data-id="${added._id}"]`).waitFor({ state: "detached", timeout: TIMEOUT });
  const after = await pollQuery(other, "tasks:list", {}, (r) => !r.some((t) => t._id === added._id), "the delete via the API");
  return { addedId: added._id, edited, stripped, remaining: after.map((t) => t.text), browse };
}

/** Filters, sort by an index, typed cells and an id cell that opens its document. */
async function browseWithFiltersAndLinks(page, docs, taskId) {
  const form = page.getByRole("form", { name: "Add a document" });
  await form.getByLabel("Table").fill("reminders");
  await form.getByLabel("Document (JSON object)").fill(JSON.stringify({ note: "about a task", task: taskId }));
  await form.getByRole("button", { name: "Add document" }).click();
  await page.getByRole("button", { name: "reminders", exact: true }).click();
  await docs.getByText("about a task", { exact: true }).waitFor({ timeout: TIMEOUT }); // no quotes
  const created = await docs.locator("time").first().getAttribute("datetime");
  await docs.getByRole("button", { name: taskId }).click(); // the id cell links to its document
  await page.getByRole("heading", { name: "Table tasks" }).waitFor({ timeout: TIMEOUT });
  await waitFor(async () => (await docs.locator("tbody tr").count()) === 1
    && (await docs.locator("tbody tr").first().getAttribute("data-id")) === taskId, "the linked document alone");
  const linkedRow = await docs.locator("tbody tr").first().getAttribute("data-id");
  await page.getByRole("button", { name: "Clear filters" }).click();
  await waitFor(async () => (await docs.locator("tbody tr").count()) >= 2, "all tasks again");
  // A field filter typed in the form.
  await page.getByRole("button", { name: "Add a filter" }).click();
  await page.getByLabel("Field", { exact: true }).fill("text");
  await page.getByLabel("Value", { exact: true }).fill("seeded by another client");
  await page.getByRole("button", { name: "Apply" }).click();
  await waitFor(async () => (await docs.locator("tbody tr").count()) === 1, "the text filter");
  const filteredText = await docs.locator("tbody tr").first().textContent();
  await page.getByRole("button", { name: "Clear filters" }).click();
  // Sort by the schema's by_text index, ascending.
  await page.getByLabel("Sort by index").selectOption("by_text");
  await page.getByLabel("Order", { exact: true }).selectOption("asc");
  let texts = [];
  await waitFor(async () => {
    texts = await docs.locator("tbody tr td:nth-child(3)").allTextContents();
    return texts.length >= 2 && texts.every((t, i) => i === 0 || texts[i - 1] <= t);
  }, "tasks sorted by text");
  await shot(page, "data-sorted-by-index");
  await page.getByLabel("Sort by index").selectOption("by_creation_time");
  await page.getByLabel("Order", { exact: true }).selectOption("desc");
  return { created, linkedRow, filteredText, sortedTexts: texts };
}

/** Schedules tab: the pending job and the deployed cron; cancel the job from the UI. */
async function readSchedules(page, dep, other, jobId) {
  await openTab(page, dep, "Schedules", "schedules");
  const jobs = page.getByRole("region", { name: "Scheduled functions" });
  await jobs.getByText("in an hour").waitFor({ timeout: TIMEOUT });
  const crons = page.getByRole("region", { name: "Cron jobs" });
  await crons.getByText("daily digest").waitFor({ timeout: TIMEOUT });
  await shot(page, "schedules");
  const jobsText = await jobs.textContent();
  await jobs.getByRole("button", { name: `Cancel ${jobId}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Cancel job" }).click();
  await jobs.getByText("canceled", { exact: true }).waitFor({ timeout: TIMEOUT });
  const canceled = await pollQuery(other, "tasks:job", { id: jobId }, (j) => j?.state?.kind === "canceled", "the canceled job via the API");
  return { jobsText, cronsText: await crons.textContent(), canceledState: canceled.state.kind };
}

async function uploadAndDownloadFile(page, dep) {
  await openTab(page, dep, "Files", "files");
  const content = `console upload ${Date.now()}\n`;
  await page.getByLabel("File", { exact: true }).setInputFiles({ name: "hello.txt", mimeType: "text/plain", buffer: Buffer.from(content) });
  await page.getByRole("button", { name: "Upload", exact: true }).click();
  await page.getByText("Uploaded hello.txt").waitFor({ timeout: TIMEOUT });
  const files = page.getByRole("region", { name: "Stored files" });
  const link = files.getByRole("link", { name: /^Download / }).first();
  await link.waitFor({ timeout: TIMEOUT });
  const href = await link.getAttribute("href");
  const r = await fetch(href);
  const downloaded = await r.text();
  await shot(page, "files");
  const fileRows = await files.locator("tbody tr").count();
  const fileRowText = await files.locator("tbody tr").first().textContent();
  // Delete it from the UI: the row goes and the URL stops serving.
  const label = await link.getAttribute("aria-label");
  const storageId = label.replace(/^Download /, "");
  await page.getByRole("button", { name: `Delete ${storageId}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await page.getByRole("link", { name: `Download ${storageId}` }).waitFor({ state: "detached", timeout: TIMEOUT });
  const afterDelete = (await fetch(href)).status;
  return { fileRows, fileRowText, downloadedMatches: downloaded === content, fileType: r.headers.get("content-type"), afterDeleteStatus: afterDelete };
}

async function readSchema(page, dep) {
  await openTab(page, dep, "Schema", "schema and indexes");
  const indexes = page.getByRole("region", { name: "Indexes" }).or(page.getByRole("table", { name: "Indexes" }));
  await page.getByText("by_text", { exact: true }).first().waitFor({ timeout: TIMEOUT });
  return { schemaText: await page.locator("main").textContent(), indexRegions: await indexes.count() };
}

/** Export with its states recorded as they render, download the ZIP, import it back. */
async function exportAndImport(page, dep, other) {
  await openTab(page, dep, "Snapshots", "snapshots");
  await page.evaluate(() => {
    const region = document.querySelector('[data-testid="export-state"]');
    window.__exportStates = [];
    const record = () => window.__exportStates.push({ text: region.textContent, progress: Boolean(region.querySelector("progress")) });
    new MutationObserver(record).observe(region, { childList: true, subtree: true, characterData: true });
  });
  await page.getByRole("button", { name: "Export snapshot" }).click();
  const state = page.getByTestId("export-state");
  const downloadButton = state.getByRole("button", { name: "Download snapshot" });
  await downloadButton.waitFor({ timeout: TIMEOUT });
  const exportStates = await page.evaluate(() => window.__exportStates);
  const [download] = await Promise.all([page.waitForEvent("download", { timeout: TIMEOUT }), downloadButton.click()]);
  mkdirSync(env.STRATA_E2E_SHOTS, { recursive: true });
  const zipPath = path.join(env.STRATA_E2E_SHOTS, "snapshot.zip");
  await download.saveAs(zipPath);
  await shot(page, "snapshots-exported");
  // Change the data, then replace it with the snapshot.
  await other.mutation("tasks:add", { text: "added after the export" });
  const form = page.getByRole("form", { name: "Import a snapshot" });
  await form.getByLabel("Snapshot ZIP").setInputFiles(zipPath);
  await form.getByLabel("Mode").selectOption("replace");
  await form.getByRole("button", { name: "Import", exact: true }).click();
  const confirm = form.getByRole("button", { name: "Confirm import" });
  const outcome = await waitFor(async () => {
    if (await confirm.isVisible()) return "confirm";
    if (await form.getByText(/Import completed/).first().isVisible()) return "completed";
    const err = form.getByRole("alert");
    if ((await err.count()) && (await err.first().textContent())?.trim()) return `error: ${await err.first().textContent()}`;
    return null;
  }, "the import to ask for confirmation");
  if (outcome.startsWith("error")) fail(`import failed: ${outcome}`);
  if (outcome === "confirm") await confirm.click();
  const importConfirmed = outcome === "confirm";
  await form.getByText(/Import completed/).first().waitFor({ timeout: TIMEOUT });
  const tasks = await pollQuery(other, "tasks:list", {}, (r) => !r.some((t) => t.text === "added after the export"), "the import to replace the tasks");
  await shot(page, "snapshots-imported");
  const importStatus = await form.getByRole("status").allTextContents().catch(() => []);
  return { importConfirmed, importStatus, exportStates, downloadName: download.suggestedFilename(), zipPath, tasksAfterImport: tasks.map((t) => t.text) };
}

/** Data tab of an app with components: pick a component, browse and add to its own table. */
async function browseComponentData(page, dep, other) {
  await openTab(page, dep, "Data", "data");
  const picker = page.getByLabel("Component");
  await picker.waitFor({ state: "visible", timeout: TIMEOUT });
  const options = await picker.locator("option").allTextContents();
  await picker.selectOption({ label: "counter2" });
  await page.getByRole("button", { name: "counts", exact: true }).click();
  const docs = page.getByTestId("documents");
  await docs.getByText("from the app", { exact: true }).waitFor({ timeout: TIMEOUT }); // a string cell: no quotes
  const form = page.getByRole("form", { name: "Add a document" });
  await form.getByLabel("Table").fill("counts");
  await form.getByLabel("Document (JSON object)").fill(JSON.stringify({ name: "from the console", value: 7 }));
  await form.getByRole("button", { name: "Add document" }).click();
  await docs.getByText("from the console", { exact: true }).waitFor({ timeout: TIMEOUT });
  const seen = await pollQuery(other, "app:values", { name: "from the console" }, (r) => r.second === 7, "the component's document via the app");
  // Back to the app: its own tables, not the component's.
  await picker.selectOption({ label: "App (root)" });
  await page.getByRole("button", { name: "notes", exact: true }).waitFor({ timeout: TIMEOUT });
  const rootTables = await page.getByRole("navigation", { name: "Tables" }).getByRole("button").allTextContents();
  return { components: options, addedInComponent: seen, rootTables };
}

/** Every dashboard tab is reachable with Tab + Enter, and none overflows a 360px screen. */
async function keyboardAndPhoneWidth(page, dep) {
  const tabs = [["Schedules", "schedules"], ["Files", "files"], ["Schema", "schema and indexes"], ["Snapshots", "snapshots"], ["Data", "data"]];
  const reached = [];
  for (const [tab, heading] of tabs) {
    let found = false;
    for (let i = 0; i < 40 && !found; i++) {
      await page.keyboard.press("Tab");
      found = await page.evaluate((name) => {
        const a = document.activeElement;
        return a?.tagName === "A" && a.textContent === name && Boolean(a.closest('nav[aria-label="Deployment sections"]'));
      }, tab);
    }
    if (!found) fail(`the ${tab} tab is not reachable with the Tab key`);
    await page.keyboard.press("Enter");
    await expectFocusedHeading(page, `${dep.name}: ${heading}`);
    reached.push(tab);
  }
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = {};
  for (const [tab, heading] of tabs) {
    await page.goto(`${BASE}/#/deployments/${dep.name}${tab === "Data" ? "/data" : `/${tab.toLowerCase()}`}`);
    await expectFocusedHeading(page, `${dep.name}: ${heading}`);
    await page.waitForLoadState("networkidle").catch(() => undefined);
    await page.waitForTimeout(300); // let live query results render before measuring
    overflow[tab] = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    const clipped = await page.evaluate(() => [...document.querySelectorAll('nav[aria-label="Deployment sections"] a')]
      .filter((a) => a.getBoundingClientRect().right > window.innerWidth).map((a) => a.textContent));
    if (clipped.length) fail(`at 360px these section tabs are off screen on ${tab}: ${clipped.join(", ")}`);
    await shot(page, `phone-${tab.toLowerCase()}`);
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  return { keyboardReached: reached, overflow };
}

/** Backups section: back up, restore into a second deployment and into this one (target picked
 * in the confirm dialog), download the ZIP, schedule backups. */
async function backUpAndRestore(page, dep, other) {
  await other.mutation("tasks:add", { text: "saved in the backup" });
  // A second deployment of the same project, made from the console.
  await page.getByRole("link", { name: "← Project" }).click();
  await page.getByLabel("Reference (optional)").fill("restored-copy");
  await page.getByRole("button", { name: "Create deployment" }).click();
  const heading = page.getByRole("heading", { level: 1, name: /^Deployment / });
  await waitFor(async () => {
    const text = (await heading.textContent().catch(() => "")) ?? "";
    return text !== `Deployment ${dep.name}` && text.startsWith("Deployment ") ? text : null;
  }, "the second deployment's page");
  const copy = (await heading.textContent()).replace("Deployment ", "").trim();
  await waitFor(async () => {
    if ((await page.getByTestId("deployment-status").textContent()) === "running") return true;
    await page.reload();
    return false;
  }, "the second deployment to run");

  await page.goto(`${BASE}/#/deployments/${dep.name}`);
  await expectFocusedHeading(page, `Deployment ${dep.name}`);
  await page.getByRole("heading", { level: 2, name: "Backups" }).scrollIntoViewIfNeeded();
  await page.getByRole("button", { name: "Back up now" }).click();
  const backups = page.getByRole("region", { name: "Backups" });
  await backups.getByText("completed").waitFor({ timeout: TIMEOUT });
  const backupRow = (await backups.locator("tbody tr").first().textContent()).trim();
  await other.mutation("tasks:add", { text: "added after the backup" });

  // Download: the stored ZIP.
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: TIMEOUT }),
    backups.getByRole("button", { name: /^Download backup of / }).first().click(),
  ]);
  mkdirSync(env.STRATA_E2E_SHOTS, { recursive: true });
  const zipPath = path.join(env.STRATA_E2E_SHOTS, "backup.zip");
  await download.saveAs(zipPath);

  // Restore into the second deployment: pick it in the dialog, confirm.
  const restoreInto = async (target) => {
    await backups.getByRole("button", { name: /^Restore backup of / }).first().click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Restore into").selectOption(target);
    const picked = await dialog.getByLabel("Restore into").inputValue();
    if (target !== dep.name) await shot(page, "backups-restore-dialog");
    await dialog.getByRole("button", { name: "Replace data and restore" }).click();
    const ok = page.getByText(`Restored`, { exact: false }).filter({ hasText: `into ${target}.` });
    await ok.waitFor({ timeout: TIMEOUT });
    return { picked, message: (await ok.textContent()).trim() };
  };
  const intoCopy = await restoreInto(copy);
  await shot(page, "backups-restored");
  // And into this deployment: the task added after the backup goes away.
  const intoSelf = await restoreInto(dep.name);
  const tasks = await pollQuery(other, "tasks:list", {}, (r) => !r.some((t) => t.text === "added after the backup"), "the restore to replace the tasks");

  // A schedule.
  const form = page.getByRole("form", { name: "Backup schedule" });
  await form.getByLabel("Every (hours)").fill("12");
  await form.getByLabel("Backups kept").fill("3");
  await form.getByRole("button", { name: "Save schedule" }).click();
  const schedule = page.getByTestId("backup-schedule");
  await schedule.getByText("Every 12 h, keeping 3").waitFor({ timeout: TIMEOUT });
  const intervalText = (await schedule.textContent()).trim();
  await form.getByLabel("Or at cron times (UTC)").fill("0 3 * * *");
  await form.getByRole("button", { name: "Save schedule" }).click();
  await schedule.getByText('On cron "0 3 * * *" (UTC), keeping 3').waitFor({ timeout: TIMEOUT });
  await shot(page, "backups");
  // At phone width the page (with the backup list) stays within the screen.
  await page.setViewportSize({ width: 360, height: 740 });
  const phoneOverflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await shot(page, "backups-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  return {
    phoneOverflow,
    copy,
    backupRow,
    zipPath,
    downloadName: download.suggestedFilename(),
    intoCopy,
    intoSelf,
    tasksAfterRestore: tasks.map((t) => t.text),
    intervalText,
    scheduleText: (await schedule.textContent()).trim(),
  };
}

async function main() {
  // A persistent context is how playwright passes a fresh --user-data-dir to Chromium.
  const context = await chromium.launchPersistentContext(env.STRATA_E2E_PROFILE, {
    executablePath: env.STRATA_CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  try {
    const email = `e2e-${Date.now()}@example.test`;
    await signUpAndLogIn(page, email);
    const dep = await createTeamProjectDeployment(page, "Acme", "Demo app");
    const token = await page.evaluate(() => localStorage.getItem("strata.token"));
    const result = { email, token, deployment: dep };
    if (env.STRATA_E2E_SCENARIO === "signup") {
      Object.assign(result, await manageTeamAndDeployment(page, dep));
      result.deleted = await createAndDeleteProd(page, dep);
      result.auditActions = await readAuditLog(page);
      await checkPhoneWidth(context);
    }
    if (env.STRATA_E2E_SCENARIO === "billing") {
      result.billing = await upgradeThroughCheckout(page);
    }
    if (env.STRATA_E2E_SCENARIO === "functions-logs") {
      convexCli(["deploy", "--yes", "--typecheck", "disable"], dep.url, dep.key, env.STRATA_E2E_APP_DIR);
      Object.assign(result, await runFunctionsAndReadLogs(page, dep));
    }
    if (env.STRATA_E2E_SCENARIO === "live-data") {
      convexCli(["deploy", "--yes", "--typecheck", "disable"], dep.url, dep.key, env.STRATA_E2E_APP_DIR);
      const { ConvexHttpClient } = require("convex/browser");
      const other = new ConvexHttpClient(dep.url); // another client: the official HTTP client
      const first = `first message ${Date.now()}`;
      await other.mutation("messages:send", { channel: "general", author: "other-client", body: first });
      await page.getByRole("navigation", { name: "Deployment sections" }).getByRole("link", { name: "Data" }).click();
      await expectFocusedHeading(page, `${dep.name}: data`);
      await page.getByRole("button", { name: "messages" }).click();
      const docs = page.getByTestId("documents");
      await docs.getByText(first).waitFor({ timeout: TIMEOUT });
      await page.evaluate(() => { window.__strataNoReload = true; });
      const text = `hello from another client ${Date.now()}`;
      await other.mutation("messages:send", { channel: "general", author: "other-client", body: text });
      await docs.getByText(text).waitFor({ timeout: TIMEOUT });
      await shot(page, "data-live");
      result.reloaded = !(await page.evaluate(() => window.__strataNoReload === true));
      result.rows = await docs.locator("tbody tr").count();
      result.liveText = text;
    }
    if (env.STRATA_E2E_SCENARIO === "components") {
      convexCli(["deploy", "--yes", "--typecheck", "disable"], dep.url, dep.key, env.STRATA_E2E_APP_DIR);
      const { ConvexHttpClient } = require("convex/browser");
      const other = new ConvexHttpClient(dep.url);
      await other.mutation("app:bumpSecond", { name: "from the app", by: 2 });
      await other.mutation("app:record", { text: "a note" });
      Object.assign(result, await browseComponentData(page, dep, other));
    }
    if (env.STRATA_E2E_SCENARIO === "tabs") {
      convexCli(["deploy", "--yes", "--typecheck", "disable"], dep.url, dep.key, env.STRATA_E2E_APP_DIR);
      const { ConvexHttpClient } = require("convex/browser");
      const other = new ConvexHttpClient(dep.url);
      await other.mutation("tasks:add", { text: "seeded by another client" });
      result.scheduledId = await other.mutation("tasks:remindLater", { note: "in an hour" });
      Object.assign(result, await editDataInBrowser(page, dep, other));
      Object.assign(result, await readSchedules(page, dep, other, result.scheduledId));
      Object.assign(result, await uploadAndDownloadFile(page, dep));
      Object.assign(result, await readSchema(page, dep));
      Object.assign(result, await exportAndImport(page, dep, other));
      Object.assign(result, await keyboardAndPhoneWidth(page, dep));
    }
    if (env.STRATA_E2E_SCENARIO === "backups") {
      convexCli(["deploy", "--yes", "--typecheck", "disable"], dep.url, dep.key, env.STRATA_E2E_APP_DIR);
      const { ConvexHttpClient } = require("convex/browser");
      const other = new ConvexHttpClient(dep.url);
      Object.assign(result, await backUpAndRestore(page, dep, other));
    }
    if (consoleErrors.length) fail(`uncaught page errors: ${consoleErrors.join("; ")}`);
    result.axe = axeFindings;
    result.axeChecked = axeChecked;
    console.log(`RESULT ${JSON.stringify(result)}`);
  } catch (err) {
    mkdirSync(env.STRATA_E2E_SHOTS, { recursive: true });
    const shot = path.join(env.STRATA_E2E_SHOTS, "failure.png");
    await page.screenshot({ path: shot, fullPage: true }).catch(() => undefined);
    console.error(`FAILED at ${page.url()} (screenshot: ${shot})`);
    console.error(err && err.stack ? err.stack : String(err));
    console.error("--- page text\n" + (await page.evaluate(() => document.body.innerText).catch(() => "")));
    process.exitCode = 1;
  } finally {
    await context.close();
  }
}

await main();
