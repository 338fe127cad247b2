// Tabs over the result panels, so one answer is on screen at a time and the answer to the
// action just pressed is the one in view. The WAI-ARIA tabs pattern with automatic
// activation: arrows, Home and End move between tabs; the selected tab alone is in the Tab
// order. Every `<section data-tab="name" data-tab-label="Label">` inside the root becomes a
// tab, in document order, so a new panel needs no change here.

import { h } from "./format.js";

const STATE_TEXT = { running: "running", done: "finished", failed: "failed", cancelled: "cancelled", new: "new results" };

export class Tabs {
  constructor(root) {
    this.root = root;
    this.list = root.querySelector("[data-tablist]");
    this.sections = new Map([...root.querySelectorAll(":scope > [data-tab]")].map((s) => [s.dataset.tab, s]));
    this.tabs = new Map();
    for (const [name, section] of this.sections) {
      const tab = h(
        "button",
        {
          type: "button",
          role: "tab",
          id: `${section.id}-tab`,
          "aria-controls": section.id,
          "data-tab-for": name,
          onclick: () => this.select(name),
        },
        section.dataset.tabLabel,
        h("span", { class: "tab-state", "data-tab-state": "" }),
      );
      section.setAttribute("role", "tabpanel");
      this.tabs.set(name, tab);
    }
    this.list.replaceChildren(...this.tabs.values());
    this.list.addEventListener("keydown", (event) => this.onKey(event));
    this.select(this.sections.keys().next().value);
  }

  get selected() {
    return [...this.tabs].find(([, tab]) => tab.getAttribute("aria-selected") === "true")?.[0];
  }

  /**
   * Show one panel. `focus: "heading"` moves focus to the panel's heading and brings the tabs
   * into view (what an action button wants); `focus: "tab"` focuses the tab (arrow keys).
   */
  select(name, { focus = null } = {}) {
    for (const [other, tab] of this.tabs) {
      const chosen = other === name;
      tab.setAttribute("aria-selected", String(chosen));
      tab.tabIndex = chosen ? 0 : -1;
      this.sections.get(other).hidden = !chosen;
    }
    // "new" (a saved search found contracts) is news until the tab is looked at.
    if (this.tabs.get(name).dataset.state === "new") this.setState(name, null);
    this.keepInRow(this.tabs.get(name));
    if (focus === "tab") this.tabs.get(name).focus();
    if (focus === "heading") {
      this.focusHeading(name);
      this.reveal();
    }
  }

  /** On a phone the tab row scrolls sideways: bring the tab into it (without scrolling the page). */
  keepInRow(tab) {
    // Rectangles, not offsetLeft/offsetWidth: those round, and a tab a fraction of a pixel wider
    // would stay cut by that fraction.
    const { list } = this;
    const box = tab.getBoundingClientRect();
    const row = list.getBoundingClientRect();
    if (box.left < row.left) list.scrollLeft -= Math.ceil(row.left - box.left);
    else if (box.right > row.left + list.clientWidth) list.scrollLeft += Math.ceil(box.right - row.left - list.clientWidth);
  }

  focusHeading(name) {
    const heading = this.sections.get(name).querySelector("h2");
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }

  /** Scroll the tabs to the top of the window unless they already sit in its upper third. */
  reveal() {
    const top = this.root.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight / 3) this.root.scrollIntoView({ block: "start" });
  }

  /** Mark a tab (running / done / failed / cancelled / new, or null), for answers that arrive in a tab not shown. */
  setState(name, state) {
    const tab = this.tabs.get(name);
    if (!tab) return;
    if (state) tab.dataset.state = state;
    else delete tab.dataset.state;
    tab.querySelector("[data-tab-state]").textContent = state ? ` (${STATE_TEXT[state] || state})` : "";
    // The dot widens the tab: the selected one must stay whole in a sideways-scrolling row.
    if (tab.getAttribute("aria-selected") === "true") this.keepInRow(tab);
  }

  onKey(event) {
    const names = [...this.tabs.keys()];
    const at = names.indexOf(event.target.dataset.tabFor);
    if (at < 0) return;
    const target = {
      ArrowRight: names[(at + 1) % names.length],
      ArrowLeft: names[(at - 1 + names.length) % names.length],
      Home: names[0],
      End: names[names.length - 1],
    }[event.key];
    if (!target) return;
    event.preventDefault();
    this.select(target, { focus: "tab" });
  }
}
