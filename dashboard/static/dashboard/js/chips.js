// Chip inputs: a list of values, a text box, and (for entity fields) suggestions from
// GET /api/v1/contracts/filter-options/?field=..&q=.. in an ARIA combobox.
//
// Keyboard: type, ↓/↑ to move through suggestions, Enter to add (the highlighted suggestion
// or the typed text), Escape to close, Backspace in an empty box removes the last chip.

import { NetworkError, get } from "./api.js";
import { h } from "./format.js";

const SUGGESTION_LIMIT = 10;
const SUGGEST_DELAY_MS = 200;

export class ChipInput {
  constructor(root, { announce = () => {} } = {}) {
    this.root = root;
    this.field = root.dataset.chipField;
    this.label = root.dataset.label || this.field;
    this.autocomplete = root.hasAttribute("data-autocomplete");
    this.input = root.querySelector("input");
    // The API's limits, from the page: the input's maxlength (a chip value; a delivery list
    // can be one) and the longest autocomplete query.
    this.maxLength = this.input.maxLength > 0 ? this.input.maxLength : undefined;
    this.queryMaxLength = Number(root.dataset.queryMaxLength) || undefined;
    this.list = root.querySelector(".chips");
    this.options = root.querySelector("[role=listbox]");
    this.announce = announce;
    this.values = [];
    this.suggestions = [];
    this.active = -1;
    this.timer = null;
    this.query = 0;

    this.input.addEventListener("keydown", (event) => this.onKeyDown(event));
    if (this.autocomplete) {
      this.input.addEventListener("input", () => this.scheduleSuggest());
      this.input.addEventListener("blur", () => window.setTimeout(() => this.close(), 150));
      this.options.addEventListener("mousedown", (event) => event.preventDefault());
    }
  }

  add(raw) {
    const value = raw.trim().replace(/\s+/g, " ").slice(0, this.maxLength);
    if (!value) return;
    if (this.values.some((existing) => existing.toUpperCase() === value.toUpperCase())) {
      this.announce(`${value} is already a ${this.label} filter.`);
      return;
    }
    this.values.push(value);
    this.render();
    this.announce(`Added ${this.label} ${value}.`);
  }

  remove(index) {
    const [value] = this.values.splice(index, 1);
    this.render();
    this.input.focus();
    this.announce(`Removed ${this.label} ${value}.`);
  }

  clear() {
    this.values = [];
    this.input.value = "";
    this.render();
    this.close();
  }

  render() {
    this.list.replaceChildren(
      ...this.values.map((value, index) =>
        h(
          "li",
          { class: "chip" },
          h("span", { title: value }, value),
          h(
            "button",
            { type: "button", "aria-label": `Remove ${this.label} ${value}`, onclick: () => this.remove(index) },
            "×",
          ),
        ),
      ),
    );
  }

  onKeyDown(event) {
    const open = this.autocomplete && !this.options.hidden;
    if (event.key === "Enter") {
      // Enter adds a chip; it never submits the form from here.
      event.preventDefault();
      if (open && this.active >= 0) this.choose(this.active);
      else if (this.input.value.trim()) {
        this.add(this.input.value);
        this.input.value = "";
        this.close();
      }
    } else if (event.key === "ArrowDown" && this.autocomplete) {
      event.preventDefault();
      if (!open) this.suggest();
      else this.highlight(Math.min(this.active + 1, this.suggestions.length - 1));
    } else if (event.key === "ArrowUp" && open) {
      event.preventDefault();
      this.highlight(Math.max(this.active - 1, 0));
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    } else if (event.key === "Backspace" && !this.input.value && this.values.length) {
      this.remove(this.values.length - 1);
    } else if (event.key === "," && !this.autocomplete) {
      event.preventDefault();
      this.add(this.input.value);
      this.input.value = "";
    }
  }

  scheduleSuggest() {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.suggest(), SUGGEST_DELAY_MS);
  }

  async suggest() {
    const query = ++this.query;
    const params = new URLSearchParams({ field: this.field, q: this.input.value.trim().slice(0, this.queryMaxLength), limit: SUGGESTION_LIMIT });
    let names;
    try {
      const { body } = await get(`/api/v1/contracts/filter-options/?${params}`);
      names = body.results.map((option) => option.name);
    } catch (error) {
      if (query !== this.query) return;
      this.showMessage(error instanceof NetworkError ? "Cannot reach the server." : error.message);
      return;
    }
    if (query !== this.query || document.activeElement !== this.input) return;
    this.suggestions = names.filter((name) => !this.values.some((v) => v.toUpperCase() === name.toUpperCase()));
    this.active = -1;
    if (!this.suggestions.length) {
      this.showMessage(`No matching ${this.label}. Enter adds “${this.input.value.trim()}” as typed.`);
      return;
    }
    this.options.replaceChildren(
      ...this.suggestions.map((name, index) =>
        h(
          "li",
          {
            role: "option",
            id: `${this.field}-option-${index}`,
            "aria-selected": "false",
            onclick: () => this.choose(index),
          },
          name,
        ),
      ),
    );
    this.open();
    this.announce(`${this.suggestions.length} suggestions. Use the arrow keys to choose.`);
  }

  showMessage(text) {
    this.suggestions = [];
    this.active = -1;
    this.options.replaceChildren(h("li", { class: "options-empty", "aria-disabled": "true" }, text));
    this.open();
  }

  open() {
    this.options.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  }

  close() {
    if (!this.autocomplete) return;
    this.query += 1;
    this.options.hidden = true;
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  highlight(index) {
    this.active = index;
    [...this.options.children].forEach((option, i) => option.setAttribute("aria-selected", String(i === index)));
    const option = this.options.children[index];
    if (option) {
      this.input.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    }
  }

  choose(index) {
    const name = this.suggestions[index];
    if (name === undefined) return;
    this.add(name);
    this.input.value = "";
    this.close();
    this.input.focus();
  }
}

// --- Time ranges ------------------------------------------------------------------------------

const QUARTER_NAMES = { 1: "Q1", 2: "Q2", 3: "Q3", 4: "Q4" };

/** The time-range chips: years, quarters or custom date spans, in the API's accepted shapes. */
export class TimeRangeInput {
  constructor(root, { announce = () => {} } = {}) {
    this.root = root;
    this.announce = announce;
    this.ranges = [];
    this.kind = root.querySelector("#time-range-kind");
    this.year = root.querySelector("#time-range-year");
    this.quarter = root.querySelector("#time-range-quarter");
    this.start = root.querySelector("#time-range-start");
    this.end = root.querySelector("#time-range-end");
    this.list = root.querySelector(".chips");
    this.error = root.querySelector("#time-ranges-error");
    this.kind.addEventListener("change", () => this.showFields());
    root.querySelector("[data-time-range-add]").addEventListener("click", () => this.addFromFields());
    for (const input of [this.year, this.start, this.end]) {
      input.addEventListener("keydown", (event) => {
        if (event.key === "Enter") {
          event.preventDefault();
          this.addFromFields();
        }
      });
    }
    this.showFields();
  }

  /**
   * Offer only the years and quarters that have contracts (`timeRanges` as GET
   * contracts/time-ranges/ answers): the year box suggests them, quarters without data are
   * disabled, and a year or quarter without data is refused with a message saying which have.
   */
  offer(timeRanges) {
    this.available = new Map(timeRanges.years.map((y) => [y.year, new Set(y.quarters.map((q) => q.quarter))]));
    const list = document.getElementById(this.year.getAttribute("list"));
    if (list) {
      list.replaceChildren(
        ...timeRanges.years.map((y) => h("option", { value: y.year }, `${y.year}: ${y.count.toLocaleString("en-PH")} contracts`)),
      );
    }
    const years = [...this.available.keys()];
    if (years.length) {
      this.year.min = String(Math.min(...years));
      this.year.max = String(Math.max(...years));
    }
    this.year.addEventListener("input", () => this.offerQuarters());
    this.offerQuarters();
  }

  offerQuarters() {
    const quarters = this.available?.get(Number(this.year.value));
    for (const option of this.quarter.options) option.disabled = Boolean(quarters) && !quarters.has(Number(option.value));
    if (this.quarter.selectedOptions[0]?.disabled) {
      const first = [...this.quarter.options].find((option) => !option.disabled);
      if (first) this.quarter.value = first.value;
    }
  }

  /** Why `year` (and `quarter`) cannot be chosen, or null when they have data (or nothing is known). */
  withoutData(year, quarter) {
    if (!this.available || !this.available.size) return null;
    const years = [...this.available.keys()].join(", ");
    if (!this.available.has(year)) return `No contracts in ${year}. Years with data: ${years}.`;
    if (quarter && !this.available.get(year).has(quarter)) {
      const offered = [...this.available.get(year)].map((q) => QUARTER_NAMES[q]).join(", ");
      return `No contracts in ${year} ${QUARTER_NAMES[quarter]}. Quarters with data: ${offered}.`;
    }
    return null;
  }

  showFields() {
    for (const field of this.root.querySelectorAll("[data-time-range-for]")) {
      field.hidden = !field.dataset.timeRangeFor.split(" ").includes(this.kind.value);
    }
  }

  fail(message, input) {
    this.error.textContent = message;
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }

  addFromFields() {
    this.error.textContent = "";
    for (const input of [this.year, this.start, this.end]) input.removeAttribute("aria-invalid");
    const kind = this.kind.value;
    let range;
    if (kind === "custom") {
      if (!this.start.value) return this.fail("Choose a start date.", this.start);
      if (!this.end.value) return this.fail("Choose an end date.", this.end);
      if (this.start.value > this.end.value) return this.fail("The start date must not be after the end date.", this.start);
      range = { value: { start: this.start.value, end: this.end.value }, label: `${this.start.value} to ${this.end.value}` };
    } else {
      const year = Number(this.year.value);
      if (!Number.isInteger(year) || year < 1990 || year > 2100) {
        return this.fail("Enter a year between 1990 and 2100.", this.year);
      }
      const missing = this.withoutData(year, kind === "quarter" ? Number(this.quarter.value) : null);
      if (missing) return this.fail(missing, this.year);
      if (kind === "quarter") {
        const quarter = Number(this.quarter.value);
        range = { value: { type: "quarterly", year, quarter }, label: `${year} ${QUARTER_NAMES[quarter]}` };
      } else {
        range = { value: { type: "yearly", year }, label: String(year) };
      }
    }
    if (this.ranges.some((existing) => existing.label === range.label)) {
      this.announce(`${range.label} is already a time range filter.`);
      return;
    }
    this.ranges.push(range);
    this.render();
    this.announce(`Added time range ${range.label}.`);
  }

  remove(index) {
    const [range] = this.ranges.splice(index, 1);
    this.render();
    this.kind.focus();
    this.announce(`Removed time range ${range.label}.`);
  }

  clear() {
    this.ranges = [];
    this.error.textContent = "";
    this.render();
  }

  get values() {
    return this.ranges.map((range) => range.value);
  }

  render() {
    this.list.replaceChildren(
      ...this.ranges.map((range, index) =>
        h(
          "li",
          { class: "chip" },
          h("span", {}, range.label),
          h(
            "button",
            { type: "button", "aria-label": `Remove time range ${range.label}`, onclick: () => this.remove(index) },
            "×",
          ),
        ),
      ),
    );
  }
}
