// Treemap of contract value by business category, then contractor, drawn as SVG.
//
// chart.js has no treemap, and the plugin that adds one would be a second vendored library
// for one chart; the squarified layout (Bruls, Huizing & van Wijk, 2000) is thirty lines,
// so it lives here. Every tile is a focusable button: click or Enter opens its drill-down.

import { count, h, money } from "./format.js";

const SVG = "http://www.w3.org/2000/svg";
const PALETTE = ["#0b5cad", "#1b7a3a", "#b3261e", "#7a4fb3", "#a15c00", "#00727a", "#8a3b63", "#4d6b00", "#5b5b5b"];
const HEADER = 18; // px kept at the top of a category for its name
const MIN_LABEL = { w: 56, h: 16 };

/** Lay `items` ({value}) out in `rect` ({x, y, w, h}) as squarified tiles: [{item, x, y, w, h}]. */
export function squarify(items, rect) {
  const positive = items.filter((item) => item.value > 0).sort((a, b) => b.value - a.value);
  const total = positive.reduce((sum, item) => sum + item.value, 0);
  if (!total || rect.w <= 0 || rect.h <= 0) return [];
  const scale = (rect.w * rect.h) / total;
  const queue = positive.map((item) => ({ item, area: item.value * scale }));
  const free = { ...rect };
  const tiles = [];
  let row = [];

  const worst = (cells, side) => {
    const sum = cells.reduce((s, c) => s + c.area, 0);
    return Math.max(...cells.map((c) => Math.max((side * side * c.area) / (sum * sum), (sum * sum) / (side * side * c.area))));
  };
  const place = (cells) => {
    const sum = cells.reduce((s, c) => s + c.area, 0);
    if (free.w >= free.h) {
      // A column along the left edge, as tall as the free space.
      const width = sum / free.h;
      let y = free.y;
      for (const c of cells) {
        const height = c.area / width;
        tiles.push({ item: c.item, x: free.x, y, w: width, h: height });
        y += height;
      }
      free.x += width;
      free.w -= width;
    } else {
      const height = sum / free.w;
      let x = free.x;
      for (const c of cells) {
        const width = c.area / height;
        tiles.push({ item: c.item, x, y: free.y, w: width, h: height });
        x += width;
      }
      free.y += height;
      free.h -= height;
    }
  };

  while (queue.length) {
    const side = Math.min(free.w, free.h);
    if (!row.length || worst([...row, queue[0]], side) <= worst(row, side)) {
      row.push(queue.shift());
    } else {
      place(row);
      row = [];
    }
  }
  if (row.length) place(row);
  return tiles;
}

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, String(value));
  }
  element.append(...children.filter(Boolean));
  return element;
}

function label(tile, text, { bold = false } = {}) {
  if (tile.w < MIN_LABEL.w || tile.h < MIN_LABEL.h) return null;
  const chars = Math.floor((tile.w - 8) / 6.5);
  const shown = text.length > chars ? `${text.slice(0, Math.max(1, chars - 1))}…` : text;
  return svg("text", { x: tile.x + 4, y: tile.y + 13, class: bold ? "tm-label tm-label-head" : "tm-label" }, shown);
}

function tileButton(tile, { name, amount, contracts, color, opacity, onOpen, kind }) {
  const described = `${name}: ${money(amount)}, ${count(contracts)} contracts`;
  const clickable = typeof onOpen === "function";
  const activate = (event) => {
    if (event.type === "keydown" && event.key !== "Enter" && event.key !== " ") return;
    event.preventDefault();
    event.stopPropagation();
    onOpen();
  };
  return svg(
    "g",
    {
      class: clickable ? "tm-tile tm-clickable" : "tm-tile",
      role: clickable ? "button" : "img",
      tabindex: clickable ? 0 : null,
      "aria-label": clickable ? `${described}. Open its drill-down.` : described,
      "data-tile": kind,
      "data-name": name,
      onclick: clickable ? activate : null,
      onkeydown: clickable ? activate : null,
    },
    svg("title", {}, described),
    svg("rect", {
      x: tile.x,
      y: tile.y,
      width: Math.max(0, tile.w),
      height: Math.max(0, tile.h),
      fill: color,
      "fill-opacity": opacity,
      stroke: "#fff",
      "stroke-width": 1,
    }),
    label(tile, name, { bold: kind === "category" }),
  );
}

/**
 * Draw the treemap of `data` (the value_treemap result) into `container`.
 * `onEntity(dimension, name)` opens a drill-down.
 */
export function renderTreemap(container, data, { onEntity = null } = {}) {
  const width = Math.max(320, container.clientWidth || 800);
  const height = Math.round(Math.min(560, Math.max(300, width * 0.55)));
  const open = (dimension, name) => (onEntity ? () => onEntity(dimension, name) : null);
  const top = data.categories.map((category, index) => ({ value: Number(category.total_amount), category, index }));
  if (Number(data.other_categories.total_amount) > 0) {
    top.push({ value: Number(data.other_categories.total_amount), rest: data.other_categories, index: top.length });
  }
  const root = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width: "100%",
    class: "treemap",
    role: "group",
    "aria-label": `Treemap of ${money(data.total_amount)} by business category and contractor`,
  });
  for (const tile of squarify(top, { x: 0, y: 0, w: width, h: height })) {
    const { category, rest, index } = tile.item;
    const color = PALETTE[index % PALETTE.length];
    if (rest) {
      root.append(
        tileButton(tile, {
          name: `${count(rest.categories)} other categories`,
          amount: rest.total_amount,
          contracts: rest.count,
          color: "#8c8c8c",
          opacity: 0.5,
          kind: "other",
        }),
      );
      continue;
    }
    const group = svg("g", { "data-category": category.name });
    group.append(
      tileButton(tile, {
        name: category.name,
        amount: category.total_amount,
        contracts: category.count,
        color,
        opacity: 0.95,
        kind: "category",
        onOpen: open("business_category", category.name),
      }),
    );
    const inner = { x: tile.x + 2, y: tile.y + HEADER, w: tile.w - 4, h: tile.h - HEADER - 2 };
    const members = category.contractors.map((c) => ({ value: Number(c.total_amount), contractor: c }));
    if (Number(category.other.total_amount) > 0) members.push({ value: Number(category.other.total_amount), other: category.other });
    if (inner.w > 8 && inner.h > 8) {
      for (const cell of squarify(members, inner)) {
        const { contractor, other } = cell.item;
        group.append(
          contractor
            ? tileButton(cell, {
                name: contractor.name,
                amount: contractor.total_amount,
                contracts: contractor.count,
                color,
                opacity: 0.55,
                kind: "contractor",
                onOpen: open("contractor", contractor.name),
              })
            : tileButton(cell, {
                name: "Other contractors",
                amount: other.total_amount,
                contracts: other.count,
                color,
                opacity: 0.25,
                kind: "other",
              }),
        );
      }
    }
    root.append(group);
  }
  const note =
    data.without_category.count > 0
      ? h("p", { class: "note" }, `Not shown: ${count(data.without_category.count)} contracts without a business category (${money(data.without_category.total_amount)}).`)
      : null;
  container.replaceChildren(...[root, note].filter(Boolean));
}
