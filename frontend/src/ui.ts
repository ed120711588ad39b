// Shared widgets: page headings, status messages, confirm dialogs, copy buttons, tab bars.

import { ApiError } from "./api";
import { type Child, announce, h, replace } from "./dom";
import { href } from "./router";

export function page(title: string, ...children: Child[]): HTMLElement {
  document.title = `${title} · Strata console`;
  return h("section", { class: "page", "aria-labelledby": "page-title" },
    h("h1", { id: "page-title", tabindex: -1 }, title),
    ...children,
  );
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** A status line under a form: role=alert for errors so they are read at once. */
export function statusLine(): { el: HTMLParagraphElement; ok(msg: string): void; fail(err: unknown): void; clear(): void } {
  const el = h("p", { class: "status", "aria-live": "polite" });
  return {
    el,
    ok(msg: string) {
      el.className = "status ok";
      el.setAttribute("role", "status");
      el.textContent = msg;
    },
    fail(err: unknown) {
      el.className = "status error";
      el.setAttribute("role", "alert");
      el.textContent = errorText(err);
    },
    clear() {
      el.className = "status";
      el.textContent = "";
    },
  };
}

/** Wire a form: disables its submit button while `action` runs, reports failures inline. */
export function onSubmit(
  form: HTMLFormElement,
  status: ReturnType<typeof statusLine>,
  action: (form: HTMLFormElement) => Promise<void>,
): HTMLFormElement {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    if (button) button.disabled = true;
    form.setAttribute("aria-busy", "true");
    status.clear();
    try {
      await action(form);
    } catch (err) {
      status.fail(err);
    } finally {
      if (button) button.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });
  return form;
}

/** A region that shows "Loading…", then `render(data)` or the error. */
export function loader<T>(label: string, load: () => Promise<T>, render: (data: T) => Child): HTMLElement {
  const region = h("div", { class: "loader", "aria-busy": "true" }, h("p", { class: "muted" }, `Loading ${label}…`));
  const run = (): void => {
    load().then(
      (data) => {
        region.removeAttribute("aria-busy");
        replace(region, render(data));
      },
      (err: unknown) => {
        region.removeAttribute("aria-busy");
        replace(region, h("p", { class: "status error", role: "alert" }, `Could not load ${label}: ${errorText(err)}`),
          h("button", { type: "button", onclick: () => { replace(region, h("p", { class: "muted" }, `Loading ${label}…`)); run(); } }, "Retry"));
      },
    );
  };
  run();
  return region;
}

/** A native <dialog> asking to confirm a destructive action; resolves true on confirm. */
export function confirmDialog(message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const opener = document.activeElement as HTMLElement | null;
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-msg" },
      h("form", { method: "dialog" },
        h("p", { id: "confirm-msg" }, message),
        h("div", { class: "row" },
          h("button", { value: "cancel", type: "submit", class: "secondary" }, "Cancel"),
          h("button", { value: "confirm", type: "submit", class: "danger" }, confirmLabel),
        ),
      ),
    );
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "confirm");
      dialog.remove();
      opener?.focus();
    });
    document.body.appendChild(dialog);
    dialog.showModal();
  });
}

export function copyButton(value: string, label: string): HTMLButtonElement {
  const button = h("button", { type: "button", class: "secondary small", "aria-label": `Copy ${label}` }, "Copy");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(value);
      announce(`${label} copied`);
      button.textContent = "Copied";
    } catch {
      // Clipboard API needs a secure context; fall back to selecting the text for the user.
      const sibling = button.previousElementSibling;
      if (sibling) window.getSelection()?.selectAllChildren(sibling);
      announce(`Select and copy the ${label} manually`);
    }
    window.setTimeout(() => (button.textContent = "Copy"), 1500);
  });
  return button;
}

/** A value shown in <code> with a copy button. */
export function copyable(value: string, label: string, testid?: string): HTMLElement {
  return h("span", { class: "copyable" }, h("code", { "data-testid": testid ?? null }, value), copyButton(value, label));
}

/** Secret shown once, with a warning. */
export function secretBox(title: string, value: string, testid: string): HTMLElement {
  return h("div", { class: "secret", role: "region", "aria-label": title },
    h("p", {}, h("strong", {}, title), " — shown once; store it now."),
    copyable(value, title, testid),
  );
}

/** Navigation tabs as links (real navigation, so Back works); current page marked for AT. */
export function tabs(items: Array<[string, string]>, current: string, label: string): HTMLElement {
  return h("nav", { class: "tabs", "aria-label": label },
    h("ul", {}, items.map(([path, text]) =>
      h("li", {}, h("a", { href: href(path), "aria-current": path === current ? "page" : null }, text)))),
  );
}

export function table(caption: string, headers: string[], rows: Child[][], empty: string): HTMLElement {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h("div", { class: "table-wrap", role: "region", "aria-label": caption, tabindex: 0 },
    h("table", {},
      h("caption", { class: "visually-hidden" }, caption),
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))),
    ),
  );
}

/** Progress while a deployment starts (a few seconds): elapsed time and the server's step,
 * so the wait is never silent. `step()` is polled; `stop()` removes the timer. */
export function provisioningProgress(what: string, step: () => Promise<string | null>): { el: HTMLElement; stop(): void } {
  const started = performance.now();
  const text = h("span", {}, `${what}…`);
  const detail = h("span", { class: "muted", "data-testid": "provisioning-step" }, "");
  const el = h("div", { class: "provisioning", role: "status", "aria-live": "polite", "data-testid": "provisioning" },
    h("progress", { "aria-label": what }), " ", text, " ", detail);
  let stopped = false;
  let polling = false;
  const tick = window.setInterval(() => {
    const seconds = Math.floor((performance.now() - started) / 1000);
    text.textContent = `${what}… ${seconds} s`;
    if (polling) return;
    polling = true;
    step().then((s) => { if (!stopped && s) detail.textContent = s; }, () => undefined).finally(() => { polling = false; });
  }, 500);
  return {
    el,
    stop() {
      stopped = true;
      window.clearInterval(tick);
      el.remove();
    },
  };
}
