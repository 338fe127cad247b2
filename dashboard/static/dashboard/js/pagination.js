// Previous / next controls for a result's {"page", "total_pages", "total_count", "has_next", "has_previous"}.

import { count, h } from "./format.js";

export function paginationControls(pagination, { noun, onPage = null, label }) {
  const { page, total_pages: totalPages, total_count: totalCount } = pagination;
  const enabled = typeof onPage === "function";
  const info =
    totalCount === 0
      ? `No ${noun} match these filters.`
      : `Page ${count(page)} of ${count(totalPages)} · ${count(totalCount)} ${noun}`;
  return h(
    "nav",
    { class: "pagination", "aria-label": label },
    h(
      "button",
      {
        type: "button",
        class: "button-secondary",
        "data-page": "previous",
        disabled: !(enabled && pagination.has_previous),
        onclick: () => onPage(page - 1),
      },
      "← Previous",
    ),
    h("span", { class: "page-info" }, info),
    h(
      "button",
      {
        type: "button",
        class: "button-secondary",
        "data-page": "next",
        disabled: !(enabled && pagination.has_next),
        onclick: () => onPage(page + 1),
      },
      "Next →",
    ),
    enabled ? null : h("span", { class: "note" }, "Run the request again from the filters to page through it."),
  );
}
