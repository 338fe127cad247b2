// The per-entity table: one row per contractor (organization, area, category), sortable by
// clicking a column header, paged with previous / next.

import { count, date, h, money } from "./format.js";
import { paginationControls } from "./pagination.js";

const ENTITY_NOUNS = {
  contractor: ["Contractor", "contractors"],
  organization: ["Organization", "organizations"],
  area: ["Area", "areas"],
  business_category: ["Business category", "business categories"],
};

const COLUMNS = [
  { key: "name", label: null, cell: (row) => row.name || "—", firstDescending: false },
  { key: "contract_count", label: "Contracts", cell: (row) => count(row.contract_count), numeric: true },
  { key: "total_amount", label: "Total amount", cell: (row) => money(row.total_amount), numeric: true },
  { key: "average_amount", label: "Average amount", cell: (row) => money(row.average_amount), numeric: true },
  { key: "first_award_date", label: "First award", cell: (row) => date(row.first_award_date), numeric: true },
  { key: "last_award_date", label: "Last award", cell: (row) => date(row.last_award_date), numeric: true },
];

/** The ordering a click on `key` asks for, given the current one ("-total_amount"). */
export function nextOrdering(current, key) {
  const descending = current.startsWith("-");
  const field = descending ? current.slice(1) : current;
  if (field === key) return descending ? key : `-${key}`;
  const column = COLUMNS.find((c) => c.key === key);
  return column.firstDescending === false ? key : `-${key}`;
}

export function renderEntities(container, data, { ordering = null, onSort = null, onPage = null, onEntity = null } = {}) {
  const [singular, plural] = ENTITY_NOUNS[data.entity_type] || ["Name", "entities"];
  const sortField = ordering ? ordering.replace(/^-/, "") : null;
  const descending = ordering ? ordering.startsWith("-") : false;

  const header = COLUMNS.map((column) => {
    const label = column.label || singular;
    const sorted = column.key === sortField;
    const attributes = {
      scope: "col",
      class: column.numeric ? "num" : null,
      "aria-sort": sorted ? (descending ? "descending" : "ascending") : null,
      "data-column": column.key,
    };
    if (typeof onSort !== "function") return h("th", attributes, label);
    const arrow = sorted ? (descending ? "▼" : "▲") : "↕";
    const hint = sorted ? `, sorted ${descending ? "descending" : "ascending"}; activate to reverse` : ", activate to sort";
    return h(
      "th",
      attributes,
      h(
        "button",
        {
          type: "button",
          class: "sort",
          "data-sort": column.key,
          "aria-label": `${label}${hint}`,
          onclick: () => onSort(nextOrdering(ordering || "-total_amount", column.key)),
        },
        label,
        h("span", { "aria-hidden": "true" }, arrow),
      ),
    );
  });

  // The title sits above the box rather than in a <caption>, which would scroll away sideways.
  const title = h(
    "p",
    { class: "table-title", id: "entities-table-title" },
    `${plural.charAt(0).toUpperCase()}${plural.slice(1)} by ${sortLabel(sortField, singular)}`,
  );
  const table = h(
    "table",
    { "data-results": "entities", "aria-labelledby": "entities-table-title" },
    h("thead", {}, h("tr", {}, header)),
    h(
      "tbody",
      {},
      data.results.map((row) =>
        h(
          "tr",
          {},
          COLUMNS.map((column) =>
            h(column.key === "name" ? "th" : "td", {
              scope: column.key === "name" ? "row" : null,
              class: column.numeric ? "num" : null,
            }, column.key === "name" && onEntity && row.name ? drillButton(data.entity_type, row.name, onEntity) : column.cell(row)),
          ),
        ),
      ),
    ),
  );
  container.replaceChildren(
    data.results.length ? title : null,
    data.results.length ? h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `${singular} table` }, table) : null,
    paginationControls(data.pagination, { noun: plural, onPage, label: "Entity table pages" }),
  );
}

function sortLabel(field, singular) {
  if (!field) return "total amount";
  if (field === "name") return `${singular.toLowerCase()} name`;
  return COLUMNS.find((c) => c.key === field).label.toLowerCase();
}

/** An entity's name as a button that opens its drill-down. */
function drillButton(entityType, name, onEntity) {
  return h(
    "button",
    { type: "button", class: "link-button", "data-entity": entityType, onclick: () => onEntity(entityType, name) },
    name,
  );
}
