// Drill-down from one entity: its top related entities on another dimension (which
// procuring entities award a contractor, where, in which categories), then the contracts
// of one pair, page by page. Opened by clicking an entity anywhere on the page.

import { count, h, money } from "./format.js";
import { renderSearch } from "./search.js";

export const DIMENSIONS = {
  contractor: { one: "Contractor", many: "Contractors" },
  organization: { one: "Procuring entity", many: "Procuring entities" },
  area: { one: "Area", many: "Areas" },
  business_category: { one: "Business category", many: "Business categories" },
};
/** "1 area", "3 areas": the dimension's name for `n` of them, in lower case. */
function noun(dimension, n) {
  return (n === 1 ? DIMENSIONS[dimension].one : DIMENSIONS[dimension].many).toLowerCase();
}

const DEFAULT_TARGET = { contractor: "organization", organization: "contractor", area: "contractor", business_category: "contractor" };
const TOP_N = 20;

export class DrillDown {
  /**
   * `panel` is the drill-down's JobPanel; `run(panel, kind, body, {done, render})` runs a job
   * in it; `readFilters()` gives the current chips, which every drill-down query keeps;
   * `reveal()` brings the drill-down's tab forward with focus on its heading.
   */
  constructor(panel, { run, readFilters, pageSize, reveal }) {
    this.panel = panel;
    this.reveal = reveal;
    this.run = run;
    this.readFilters = readFilters;
    this.pageSize = pageSize;
    this.heading = panel.section.querySelector("h2");
  }

  open(dimension, name) {
    this.dimension = dimension;
    this.name = name;
    this.target = DEFAULT_TARGET[dimension];
    this.filters = this.readFilters();
    this.heading.textContent = `Drill-down: ${DIMENSIONS[dimension].one} ${name}`;
    const loaded = this.loadRelated();
    this.reveal();
    return loaded;
  }

  /** An earlier drill-down job's result (from My jobs), with the request that made it. */
  show(job, data, request) {
    Object.assign(this, { dimension: request.dimension, name: request.name, target: request.target });
    this.filters = request.filters;
    this.heading.textContent = `Drill-down: ${DIMENSIONS[this.dimension].one} ${this.name}`;
    const token = this.panel.begin();
    this.panel.setTask(token, job.task_id);
    this.panel.succeed(token, "Result of an earlier job.");
    if (job.kind === "related_entities") this.renderRelated(data);
    else this.renderPair(request.target_name, data);
  }

  loadRelated() {
    const body = { filters: this.filters, dimension: this.dimension, name: this.name, target: this.target, top_n: TOP_N };
    return this.run(this.panel, "related_entities", body, {
      done: (data) => `${DIMENSIONS[this.dimension].one} ${this.name}: ${count(data.count)} contracts, ${count(data.related_count)} ${noun(this.target, data.related_count)}.`,
      render: (data) => this.renderRelated(data),
    });
  }

  targetPicker() {
    const select = h(
      "select",
      { id: "drilldown-target", onchange: (event) => ((this.target = event.target.value), this.loadRelated()) },
      Object.entries(DIMENSIONS)
        .filter(([key]) => key !== this.dimension)
        .map(([key, names]) => h("option", { value: key, selected: key === this.target ? true : null }, names.many)),
    );
    return h("div", { class: "field drilldown-target" }, h("label", { for: "drilldown-target" }, "Related"), select);
  }

  renderRelated(data) {
    const many = DIMENSIONS[this.target].many;
    const rows = data.results.map((row) =>
      h(
        "tr",
        {},
        h(
          "th",
          { scope: "row" },
          h(
            "button",
            {
              type: "button",
              class: "link-button",
              "data-related": row.name,
              "aria-label": `Contracts of ${this.name} with ${row.name}`,
              onclick: () => this.loadPair(row.name, 1),
            },
            row.name,
          ),
        ),
        h("td", { class: "num" }, count(row.count)),
        h("td", { class: "num" }, money(row.total_amount)),
      ),
    );
    this.panel.body.replaceChildren(
      h(
        "dl",
        { class: "totals", "aria-label": "Totals" },
        h("div", {}, h("dt", {}, "Contracts"), h("dd", {}, count(data.count))),
        h("div", {}, h("dt", {}, "Total amount"), h("dd", {}, money(data.total_amount))),
        h("div", {}, h("dt", {}, many), h("dd", {}, count(data.related_count))),
      ),
      this.targetPicker(),
      data.results.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { "data-results": "related" },
              h("caption", {}, `Top ${many.toLowerCase()} of ${this.name} by total amount; choose one for their contracts`),
              h(
                "thead",
                {},
                h("tr", {}, h("th", { scope: "col" }, DIMENSIONS[this.target].one), h("th", { scope: "col", class: "num" }, "Contracts"), h("th", { scope: "col", class: "num" }, "Total amount")),
              ),
              h("tbody", {}, rows),
            ),
          )
        : h("p", { class: "note" }, `No ${many.toLowerCase()} for these filters.`),
    );
  }

  loadPair(targetName, page) {
    const body = {
      filters: { ...this.filters, page, page_size: this.pageSize() },
      dimension: this.dimension,
      name: this.name,
      target: this.target,
      target_name: targetName,
    };
    return this.run(this.panel, "related_contracts", body, {
      done: (data) => `${count(data.pagination.total_count)} contracts of ${this.name} with ${targetName}.`,
      render: (data) => this.renderPair(targetName, data),
    });
  }

  renderPair(targetName, data) {
    const results = h("div", {});
    renderSearch(results, data, { onPage: (next) => this.loadPair(targetName, next) });
    this.panel.body.replaceChildren(
      h("button", { type: "button", class: "button-secondary", onclick: () => this.loadRelated() }, `Back to ${DIMENSIONS[this.target].many.toLowerCase()}`),
      h("h3", {}, `${this.name} with ${targetName}`),
      results,
    );
  }
}
