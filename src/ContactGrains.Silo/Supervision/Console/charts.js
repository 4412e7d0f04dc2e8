// Inline SVG charts drawn from the API's figures: a queue's last 24 hours, and an intent's ratings
// per day (bot and human). The SVG scales with its panel (viewBox); colours come from console.css.

import { h, duration, percent } from "./format.js";

const Svg = "http://www.w3.org/2000/svg";

function s(tag, attributes, ...children) {
  const element = document.createElementNS(Svg, tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null) {
      continue;
    }
    if (name === "dataset") {
      for (const [key, data] of Object.entries(value)) {
        element.setAttribute(`data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, String(data));
      }
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat(Infinity)) {
    if (child !== undefined && child !== null && child !== false) {
      element.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return element;
}

/** A scale rounded up to a readable top (e.g. 37 → 40, 130 → 150). */
function niceTop(value, minimum) {
  const top = Math.max(value, minimum);
  const magnitude = 10 ** Math.floor(Math.log10(top));
  for (const step of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= top) {
      return step * magnitude;
    }
  }
  return top;
}

function path(points) {
  return points.map(([x, y], i) => `${i === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
}

/** Splits a series at its gaps (absent values), so a line never pretends to know what happened there. */
function segments(values, x, y) {
  const runs = [];
  let run = [];
  values.forEach((value, i) => {
    if (value === undefined || value === null) {
      if (run.length) {
        runs.push(run);
      }
      run = [];
    } else {
      run.push([x(i), y(value)]);
    }
  });
  if (run.length) {
    runs.push(run);
  }
  return runs;
}

function frame({ width, height, left, right, top, bottom }, labels, ticks, tickText) {
  const plotWidth = width - left - right;
  const plotHeight = height - top - bottom;
  const step = labels.length > 1 ? plotWidth / (labels.length - 1) : 0;
  const x = (i) => left + (labels.length > 1 ? i * step : plotWidth / 2);
  const parts = [];
  for (const tick of ticks) {
    const ty = top + plotHeight - tick.at * plotHeight;
    parts.push(s("line", { class: "grid", x1: left, x2: width - right, y1: ty, y2: ty }));
    parts.push(s("text", { x: left - 6, y: ty + 4, "text-anchor": "end" }, tickText(tick.value)));
  }
  parts.push(s("line", { class: "axis", x1: left, x2: width - right, y1: top + plotHeight, y2: top + plotHeight }));
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((label, i) => {
    if (label && (i % every === 0 || labels.length <= 8)) {
      parts.push(s("text", { x: x(i), y: height - 6, "text-anchor": "middle" }, label));
    }
  });
  return { parts, x, plotHeight, plotWidth, step };
}

/**
 * A queue's history: average wait as bars and longest wait as a line (seconds, upper chart), and
 * the service level with the console's target (lower chart). One data point per interval.
 */
export function queueHistoryChart(history, serviceLevelTarget) {
  const intervals = history.intervals || [];
  if (intervals.length === 0) {
    return h("p", { class: "empty" }, "No history yet for this queue.");
  }
  const labels = intervals.map((interval) => {
    const date = new Date(interval.start);
    return date.getMinutes() === 0 ? date.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) : "";
  });
  const average = intervals.map((i) => i.averageWaitSeconds || 0);
  const longest = intervals.map((i) => ((i.answered || 0) + (i.abandoned || 0) > 0 ? i.longestWaitSeconds || 0 : null));
  const level = intervals.map((i) => (typeof i.serviceLevel === "number" ? i.serviceLevel : null));

  const waitsBox = { width: 640, height: 170, left: 48, right: 12, top: 10, bottom: 22 };
  const top = niceTop(Math.max(...average, ...longest.map((v) => v || 0)), 60);
  const waitTicks = [0, 0.5, 1].map((at) => ({ at, value: top * at }));
  const waits = frame(waitsBox, labels, waitTicks, (v) => duration(v));
  const y = (v) => waitsBox.top + waits.plotHeight - (v / top) * waits.plotHeight;
  const barWidth = Math.max(1, Math.min(14, waits.step * 0.7));
  const bars = intervals.map((interval, i) => {
    const height = (average[i] / top) * waits.plotHeight;
    return s("rect", {
      class: "bar-wait",
      x: waits.x(i) - barWidth / 2,
      y: waitsBox.top + waits.plotHeight - height,
      width: barWidth,
      height,
      dataset: { point: "average-wait", start: interval.start, value: average[i] },
    }, s("title", {}, `${new Date(interval.start).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}: ` +
      `${interval.answered || 0} answered, ${interval.abandoned || 0} abandoned, average wait ${duration(average[i])}, longest ${duration(interval.longestWaitSeconds || 0)}`));
  });
  const longestLines = segments(longest, waits.x, y).map((run) => s("path", { class: "line-longest", d: path(run) }));
  const longestPoints = longest.map((v, i) => (v === null ? null : s("circle", { class: "pt-longest", cx: waits.x(i), cy: y(v), r: 2.5, dataset: { point: "longest-wait" } })));
  const waitsSvg = s("svg", {
    class: "chart", viewBox: `0 0 ${waitsBox.width} ${waitsBox.height}`, role: "img",
    "aria-label": `Waits in ${history.queue} over the last ${intervals.length} intervals`, dataset: { chart: "queue-waits" },
  }, waits.parts, bars, longestLines, longestPoints);

  const levelBox = { width: 640, height: 130, left: 48, right: 12, top: 10, bottom: 22 };
  const levelTicks = [0, 0.5, 1].map((at) => ({ at, value: at }));
  const levels = frame(levelBox, labels, levelTicks, (v) => percent(v));
  const ly = (v) => levelBox.top + levels.plotHeight - v * levels.plotHeight;
  const targetY = ly(serviceLevelTarget);
  const levelSvg = s("svg", {
    class: "chart", viewBox: `0 0 ${levelBox.width} ${levelBox.height}`, role: "img",
    "aria-label": `Service level of ${history.queue}, target ${percent(serviceLevelTarget)}`, dataset: { chart: "queue-service-level" },
  },
  levels.parts,
  s("line", { class: "target", x1: levelBox.left, x2: levelBox.width - levelBox.right, y1: targetY, y2: targetY }),
  segments(level, levels.x, ly).map((run) => s("path", { class: "line-sl", d: path(run) })),
  level.map((v, i) => (v === null ? null : s("circle", { class: "pt-sl", cx: levels.x(i), cy: ly(v), r: 2.5, dataset: { point: "service-level", value: v } },
    s("title", {}, `${percent(v)} answered within ${duration(history.serviceLevelThresholdSeconds)}`)))));

  const answered = intervals.reduce((sum, i) => sum + (i.answered || 0), 0);
  const abandoned = intervals.reduce((sum, i) => sum + (i.abandoned || 0), 0);
  return h("div", { dataset: { chart: "queue-history", chartQueue: history.queue } },
    h("p", { class: "chart-summary" },
      `${answered} answered, ${abandoned} abandoned in ${Math.round((intervals.length * (history.intervalMinutes || 15)) / 60)} h · ` +
      `${history.intervalMinutes || 15}-minute intervals`),
    waitsSvg,
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "key bar-wait" }), "Average wait"),
      h("span", {}, h("span", { class: "key line-longest" }), "Longest wait")),
    levelSvg,
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "key line-sl" }), `Service level (answered within ${duration(history.serviceLevelThresholdSeconds)})`),
      h("span", {}, h("span", { class: "key target" }), `Target ${percent(serviceLevelTarget)}`)));
}

/** An intent's average rating per day, bot and human side by side (1 to 5). */
export function intentRatingChart(history) {
  const days = history.days || [];
  if (days.length === 0) {
    return h("p", { class: "empty", dataset: { chart: "intent-history", intent: history.intent } },
      `No rated conversations for ${history.intent} in the last 28 days.`);
  }
  const box = { width: 640, height: 200, left: 30, right: 12, top: 10, bottom: 22 };
  const labels = days.map((d) => d.day.slice(5));
  const ticks = [1, 2, 3, 4, 5].map((value) => ({ at: (value - 1) / 4, value }));
  const chart = frame(box, labels, ticks, (v) => String(v));
  const y = (v) => box.top + chart.plotHeight - ((v - 1) / 4) * chart.plotHeight;
  const series = [
    { side: "bot", values: days.map((d) => d.bot?.averageRating ?? null) },
    { side: "human", values: days.map((d) => d.human?.averageRating ?? null) },
  ];
  const drawn = series.map(({ side, values }) => [
    segments(values, chart.x, y).map((run) => s("path", { class: `line-${side}`, d: path(run) })),
    values.map((v, i) => (v === null ? null : s("circle", {
      class: `pt-${side}`, cx: chart.x(i), cy: y(v), r: 3.5, dataset: { point: side, day: days[i].day, value: v },
    }, s("title", {}, `${days[i].day}, ${side}: ${v.toFixed(2)} (${days[i][side]?.rated || 0} rated of ${days[i][side]?.conversations || 0})`)))),
  ]);
  return h("div", { dataset: { chart: "intent-history", intent: history.intent } },
    s("svg", {
      class: "chart", viewBox: `0 0 ${box.width} ${box.height}`, role: "img",
      "aria-label": `Average rating per day for ${history.intent}, bot and human`,
    }, chart.parts, drawn),
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "key line-bot" }), "Bot"),
      h("span", {}, h("span", { class: "key line-human" }), "Human"),
      h("span", {}, "Days without ratings are gaps.")));
}
