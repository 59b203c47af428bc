// Supervisor page: what waits too long, counts by state, on-time rates per site and leg (with charts), transit
// times, failed deliveries, returns and handoff problems, for the supervisor's sites; lists export as CSV.
// Everything comes from GET /api/v1/reports/overview and /api/v1/handoffs/problems with the bearer token.
"use strict";

const STATES = {
  created: ["Mới tạo", "Created"],
  handed_to_post: ["Đã giao bưu điện", "Handed to the post"],
  accepted: ["Bưu điện đã nhận", "Accepted"],
  at_sorting: ["Đang ở trung tâm khai thác", "At a sorting centre"],
  left_sorting: ["Đã rời trung tâm khai thác", "Left the sorting centre"],
  at_delivery_office: ["Ở bưu cục phát", "At the delivery office"],
  out_for_delivery: ["Đang phát", "Out for delivery"],
  attempt_failed: ["Phát không thành công", "Delivery failed"],
  out_for_redelivery: ["Đang phát lại", "Out for redelivery"],
  attempts_exhausted: ["Hết lần phát", "Attempts exhausted"],
  delivered: ["Đã phát", "Delivered"],
  received: ["Cơ quan đã nhận", "Received by the office"],
  returning: ["Đang chuyển hoàn", "Returning"],
  returned: ["Đã chuyển hoàn", "Returned"],
};
const KINDS = { dossier: ["Hồ sơ", "Dossier"], result: ["Kết quả", "Result"], return: ["Hoàn trả", "Return"] };
const LEGS = { dossier: ["Hồ sơ → cơ quan", "Dossier → office"], result: ["Kết quả → công dân", "Result → citizen"] };
const VIETNAM_OFFSET_MS = 7 * 60 * 60 * 1000;
const SVG = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);
let session = JSON.parse(sessionStorage.getItem("dpost-supervisor") || "null");

function el(tag, className, text, lang) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  if (lang) node.lang = lang;
  return node;
}

function bilingual(tag, className, pair) {
  const node = el(tag, className, pair[0]);
  if (pair[1]) node.append(" ", el("span", "en", pair[1], "en"));
  return node;
}

function grouped(id) {
  return id.length === 13 ? `${id.slice(0, 2)} ${id.slice(2, 5)} ${id.slice(5, 8)} ${id.slice(8, 11)} ${id.slice(11)}` : id;
}

function vnDate(ms) {
  return new Date(ms + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}

function dmy(iso) {
  return iso && iso.length >= 10 ? `${iso.slice(8, 10)}/${iso.slice(5, 7)}/${iso.slice(0, 4)}` : "";
}

function localTime(iso) {
  const t = new Date(Date.parse(iso) + VIETNAM_OFFSET_MS).toISOString();
  return `${t.slice(11, 16)} ${t.slice(8, 10)}/${t.slice(5, 7)}`;
}

function hoursText(h) {
  return h >= 48 ? `${Math.floor(h / 24)} ngày ${h % 24} giờ` : `${h} giờ`;
}

async function api(path) {
  const response = await fetch(path, { headers: { Authorization: `Bearer ${session.token}` } });
  if (response.status === 401) {
    showLogin("Phiên đăng nhập đã hết hạn. Session expired.");
    throw new Error("session expired");
  }
  return response;
}

function showLogin(message) {
  session = null;
  sessionStorage.removeItem("dpost-supervisor");
  $("report-view").hidden = true;
  $("login-view").hidden = false;
  $("logout").hidden = true;
  $("who").textContent = "";
  $("login-error").textContent = message || "";
  $("username").focus();
}

async function logout() {
  try {
    await fetch("/api/v1/logout", { method: "POST", headers: { Authorization: `Bearer ${session.token}` } });
  } catch (e) {
    // The session ends here either way; the server's expires on its own.
  }
  showLogin();
}

async function login(event) {
  event.preventDefault();
  $("login-error").textContent = "";
  const response = await fetch("/api/v1/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ username: $("username").value, password: $("password").value }),
  });
  const data = await response.json().catch(() => null);
  if (response.status !== 200 || !data) {
    $("login-error").textContent =
      response.status === 429 ? "Đăng nhập sai quá nhiều lần, hãy thử lại sau. Too many attempts."
        : "Sai tên đăng nhập hoặc mật khẩu. Wrong username or password.";
    return;
  }
  session = { token: data.token, user: data.user };
  sessionStorage.setItem("dpost-supervisor", JSON.stringify(session));
  await showReports();
}

async function showReports() {
  $("login-view").hidden = true;
  $("report-view").hidden = false;
  const me = (await (await api("/api/v1/me")).json()).user;
  $("who").textContent = `${me.username} · ${me.role === "supervisor" ? "Giám sát / supervisor" : me.role}`;
  $("logout").hidden = false;
  const sites = [...new Set([me.site, ...(me.scope || [])].filter(Boolean))];
  const select = $("site");
  select.replaceChildren();
  const all = el("option", null, "Tất cả đơn vị được giao / All my sites");
  all.value = "";
  select.append(all);
  for (const code of sites) {
    const option = el("option", null, code);
    option.value = code;
    select.append(option);
  }
  if (!$("to").value) $("to").value = vnDate(Date.now());
  if (!$("from").value) $("from").value = vnDate(Date.now() - 29 * 24 * 3600 * 1000);
  await refresh();
  $("site").focus();
}

function query() {
  const p = new URLSearchParams();
  if ($("site").value) p.set("site", $("site").value);
  if ($("from").value) p.set("from", $("from").value);
  if ($("to").value) p.set("to", $("to").value);
  return p.toString();
}

// The charts are drawn at their container's width: drawn again when it changes (a phone turned, a window
// resized), from the report already loaded.
let lastReport = null;
let redrawTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(redrawTimer);
  redrawTimer = setTimeout(() => {
    if (!lastReport || $("report-view").hidden) return;
    renderStates(lastReport.by_state);
    renderOnTime(lastReport.on_time);
  }, 150);
});

async function refresh(event) {
  if (event) event.preventDefault();
  $("status").textContent = "Đang tải… Loading…";
  const response = await api(`/api/v1/reports/overview?${query()}`);
  const report = await response.json();
  if (response.status !== 200) {
    $("status").textContent = `${report.error ? report.error.message : response.status}`;
    return;
  }
  lastReport = report;
  renderWaiting(report.waiting);
  renderLate(report.late_dossiers || []);
  renderStates(report.by_state);
  renderOnTime(report.on_time);
  renderMore(report);
  const problems = await (await api(`/api/v1/handoffs/problems?${$("site").value ? `site=${$("site").value}` : ""}`)).json();
  renderProblems(problems.problems || []);
  $("status").textContent = `Số liệu từ ${dmy(report.from)} đến ${dmy(report.to)}, đơn vị: ${report.sites.join(", ")}. ` +
    `Figures from ${report.from} to ${report.to}.`;
}

function emptyRow(body, columns) {
  const tr = el("tr");
  const td = el("td", "empty", "Không có. None.");
  td.colSpan = columns;
  tr.append(td);
  body.append(tr);
}

function renderWaiting(rows) {
  const body = $("waiting");
  body.replaceChildren();
  $("waiting-count").textContent = `(${rows.length})`;
  if (!rows.length) emptyRow(body, 5);
  for (const w of rows) {
    const tr = el("tr", w.past_due ? "past-due" : "");
    tr.dataset.item = w.item_id;
    const id = el("td", "id", grouped(w.item_id));
    if (w.dossier_code) id.append(el("br"), el("span", "en", w.dossier_code));
    const state = el("td");
    state.append(bilingual("span", null, [w.state_text, w.state_text_en]));
    if (w.failure) renderFailure(state, w.failure);
    const where = el("td", null, w.site_name);
    const waited = el("td");
    waited.append(el("span", null, hoursText(w.waiting_hours)), " ");
    if (w.waiting_hours > w.limit_hours) {
      waited.append(el("span", "badge over", `quá ${hoursText(w.waiting_hours - w.limit_hours)} / over`));
    }
    waited.append(el("br"), el("span", "en", `từ ${localTime(w.since)}, hạn ${w.limit_hours} giờ / limit ${w.limit_hours} h`));
    const due = el("td", null, dmy(w.due_date));
    if (w.past_due) due.append(" ", el("span", "badge late", "Quá hạn trả / past due"));
    tr.append(id, state, where, waited, due);
    body.append(tr);
  }
}

// After a failed attempt: why (coded reason), what the clerk did, and what is due next.
function renderFailure(cell, f) {
  const why = [f.reason_code_text, f.action_text].filter(Boolean).join(" · ");
  const whyEn = [f.reason_code_text_en, f.action_text_en].filter(Boolean).join(" · ");
  if (why) cell.append(bilingual("div", "failure", [why, whyEn]));
  const next = f.next_step === "return_to_office"
    ? el("span", "badge late", "Đủ điều kiện chuyển hoàn / return due")
    : el("span", "badge next", f.action === "hold_at_post_office"
      ? "Chờ người nhận đến lấy / awaiting collection"
      : "Cần phát lại / deliver again");
  next.dataset.nextStep = f.next_step;
  cell.append(next);
}

const LATE_PARTS = {
  dossier_leg: ["Bưu điện chuyển hồ sơ đến cơ quan chậm", "post late bringing the dossier to the office"],
  processing: ["Cơ quan giải quyết quá ngày hẹn trả", "office past the due date"],
  result_leg: ["Bưu điện chuyển kết quả đến công dân chậm", "post late bringing the result home"],
};

function renderLate(rows) {
  const body = $("late");
  body.replaceChildren();
  $("late-count").textContent = `(${rows.length})`;
  if (!rows.length) emptyRow(body, 3);
  for (const d of rows) {
    const tr = el("tr");
    tr.dataset.dossier = d.dossier_id;
    // Without a one-stop dossier code, the number on its envelope (the first leg's item id) is what staff can look up.
    const firstLeg = (d.legs || [])[0];
    const id = el("td", "id", d.dossier_code || (firstLeg ? grouped(firstLeg.item_id) : `#${d.dossier_id}`));
    const due = el("td", null, d.due_at ? localTime(d.due_at) : "");
    if (d.paused) due.append(" ", el("span", "badge", "Tạm dừng / paused"));
    if (d.timeliness && d.timeliness.provisional) {
      const badge = el("span", "badge", "Tạm tính / provisional");
      badge.title = "Lịch làm việc chưa có ngày nghỉ của năm này / the calendar lacks this year's days off";
      due.append(" ", badge);
    }
    const why = el("td");
    for (const part of d.late_parts) {
      const [vi, en] = LATE_PARTS[part] || [part, part];
      why.append(bilingual("div", "late-part", [vi, en]));
    }
    tr.append(id, due, why);
    body.append(tr);
  }
}

// A horizontal bar chart in SVG: rows of [label, value, max, text].
// Drawn at the container's own width in CSS pixels, so 12 px text stays 12 px on a phone. Narrow (a phone, or
// a chart in a half-width column): each label on its own line above its bar; wide: label and bar side by side.
// Labels that do not fit are cut with "…" and carry the full text as a tooltip; the figure always fits.
function barChart(container, rows, colour) {
  container.replaceChildren();
  if (!rows.length) return;
  const width = Math.max(280, Math.floor(container.clientWidth || 760));
  const stacked = width < 560;
  const labelWidth = stacked ? 0 : Math.min(360, Math.floor(width * 0.45));
  const rowHeight = stacked ? 40 : 24;
  const figureWidth = 96;
  const maxChars = Math.floor((stacked ? width : labelWidth - 8) / 6.5);
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${rows.length * rowHeight + 4}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("aria-hidden", "true");
  rows.forEach(([label, value, max, text], i) => {
    const y = i * rowHeight + 2;
    const barY = stacked ? y + 20 : y + 3;
    const name = document.createElementNS(SVG, "text");
    name.setAttribute("x", "0");
    name.setAttribute("y", String(y + 16));
    name.textContent = label.length > maxChars ? `${label.slice(0, maxChars - 1)}…` : label;
    const tip = document.createElementNS(SVG, "title");
    tip.textContent = label;
    name.append(tip);
    const bar = document.createElementNS(SVG, "rect");
    const length = max > 0 ? Math.max(2, ((width - labelWidth - figureWidth) * value) / max) : 0;
    bar.setAttribute("x", String(labelWidth));
    bar.setAttribute("y", String(barY));
    bar.setAttribute("width", String(length));
    bar.setAttribute("height", "16");
    bar.setAttribute("fill", typeof colour === "function" ? colour(value, max) : colour);
    bar.setAttribute("class", "bar");
    const figure = document.createElementNS(SVG, "text");
    figure.setAttribute("x", String(labelWidth + length + 6));
    figure.setAttribute("y", String(barY + 13));
    figure.textContent = text;
    svg.append(name, bar, figure);
  });
  container.append(svg);
}

function renderStates(byState) {
  const body = $("states");
  body.replaceChildren();
  const rows = [];
  for (const [kind, states] of Object.entries(byState)) {
    for (const [state, count] of Object.entries(states)) rows.push({ kind, state, count });
  }
  if (!rows.length) emptyRow(body, 3);
  const max = Math.max(0, ...rows.map((r) => r.count));
  for (const r of rows) {
    const tr = el("tr");
    tr.append(bilingual("td", null, KINDS[r.kind] || [r.kind]), bilingual("td", null, STATES[r.state] || [r.state]),
      el("td", "num", String(r.count)));
    body.append(tr);
  }
  barChart($("state-chart"), rows.map((r) => [`${(KINDS[r.kind] || [r.kind])[0]} · ${(STATES[r.state] || [r.state])[0]}`,
    r.count, max, String(r.count)]), "#0b4f9c");
}

function renderOnTime(rows) {
  const body = $("ontime");
  body.replaceChildren();
  if (!rows.length) emptyRow(body, 5);
  for (const o of rows) {
    const tr = el("tr");
    tr.append(el("td", null, o.site_name), bilingual("td", null, LEGS[o.leg] || [o.leg]),
      el("td", "num", String(o.completed)), el("td", "num", String(o.on_time)),
      el("td", "num", `${Math.round(o.rate * 100)}%`));
    body.append(tr);
  }
  barChart($("ontime-chart"), rows.map((o) => [`${o.site_name} · ${(LEGS[o.leg] || [o.leg])[0]}`, o.rate * 100, 100,
    `${Math.round(o.rate * 100)}% (${o.on_time}/${o.completed})`]), (v) => (v >= 90 ? "#1b7f3a" : v >= 70 ? "#a87900" : "#b3261e"));
}

// One decimal, Vietnamese style: 2,4 (not 2.4).
const hours1 = (h) => h.toLocaleString("vi-VN", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

function renderMore(report) {
  const transit = $("transit");
  transit.replaceChildren();
  const kinds = Object.entries(report.transit_hours);
  if (!kinds.length) emptyRow(transit, 5);
  for (const [kind, p] of kinds) {
    const tr = el("tr");
    tr.append(bilingual("td", null, KINDS[kind] || [kind]), el("td", "num", String(p.count)),
      el("td", "num", hours1(p.p50)), el("td", "num", hours1(p.p90)), el("td", "num", hours1(p.max)));
    transit.append(tr);
  }
  const failed = $("failed");
  failed.replaceChildren();
  if (!report.failed_attempts.length) emptyRow(failed, 2);
  for (const f of report.failed_attempts) {
    const tr = el("tr");
    const reason = f.reason_text_en ? bilingual("td", null, [f.reason, f.reason_text_en]) : el("td", null, f.reason);
    tr.append(reason, el("td", "num", String(f.count)));
    failed.append(tr);
  }
  $("returns").textContent = String(report.returns);
}

function renderProblems(rows) {
  const body = $("problems");
  body.replaceChildren();
  if (!rows.length) emptyRow(body, 4);
  for (const p of rows.slice(0, 100)) {
    const tr = el("tr");
    const what = bilingual("td", null, [p.problem_text, p.problem_text_en]);
    if (p.bag_id) what.append(el("br"), el("span", "en", `túi / bag ${p.bag_id}`));
    tr.append(el("td", null, localTime(p.at)), el("td", "id", grouped(p.item_id)), el("td", null, p.site), what);
    body.append(tr);
  }
}

// The CSV comes with the token, so it is fetched and handed to the browser as a download.
async function exportCsv(path, button) {
  const response = await api(`${path}?${query()}`);
  if (response.status !== 200) {
    $("status").textContent = `CSV: ${response.status}`;
    return;
  }
  const disposition = response.headers.get("Content-Disposition") || "";
  const name = (disposition.match(/filename="([^"]+)"/) || [null, "report.csv"])[1];
  const url = URL.createObjectURL(await response.blob());
  const link = el("a", null, `Tải ${name} / Download`);
  link.href = url;
  link.download = name;
  link.id = `${button.id}-link`;
  document.getElementById(link.id)?.remove();
  button.after(" ", link);
  link.click();
  $("status").textContent = `Đã xuất ${name}. Exported ${name}.`;
}

document.addEventListener("DOMContentLoaded", () => {
  $("login-form").addEventListener("submit", login);
  $("logout").addEventListener("click", logout);
  $("filter").addEventListener("submit", refresh);
  $("export-waiting").addEventListener("click", (e) => exportCsv("/api/v1/reports/waiting.csv", e.currentTarget));
  $("export-late").addEventListener("click", (e) => exportCsv("/api/v1/reports/late.csv", e.currentTarget));
  $("export-ontime").addEventListener("click", (e) => exportCsv("/api/v1/reports/on-time.csv", e.currentTarget));
  if (session) {
    showReports().catch(() => showLogin());
  } else {
    showLogin();
  }
});
