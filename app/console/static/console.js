// shopsync ops console: a thin front end over the /ops JSON API.
// The page holds no data. The operator's OPS token lives in sessionStorage (this tab only) and goes out as
// `Authorization: Bearer` on every call. Text from the API is only ever put into the DOM with textContent.
"use strict";

(() => {
  const TOKEN_KEY = "shopsync.opsToken";
  const API = new URL("../ops/", document.baseURI); // the page is /console/; relative, so a path prefix works
  const LIST_LIMIT = 200;
  const AUTO_REFRESH_MS = 15000;

  const $ = (id) => document.getElementById(id);

  class NoToken extends Error {}
  class Unauthorized extends Error {}
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  let appliedFilter = {}; // the DLQ filter the list shows
  let driftUrl = null; // object URL of the drift plot on screen
  let autoTimer = null;
  let inflight = null;
  let again = false;

  // --- the API -------------------------------------------------------------------------------------------

  const token = () => sessionStorage.getItem(TOKEN_KEY);

  async function call(path, { method = "GET", body, accept = "application/json" } = {}) {
    const current = token();
    if (!current) throw new NoToken("no token");
    const headers = { Accept: accept, Authorization: `Bearer ${current}` };
    const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(new URL(path, API), init);
    if (resp.status === 401) throw new Unauthorized("401 unauthorized");
    return resp;
  }

  async function json(path, options) {
    const resp = await call(path, options);
    let data = null;
    try {
      data = await resp.json();
    } catch (_) {
      data = null; // not JSON: reported below by status
    }
    if (!resp.ok) {
      throw new ApiError(resp.status, (data && (data.message || data.error)) || resp.statusText || "error");
    }
    return data;
  }

  // --- DOM helpers (textContent only) --------------------------------------------------------------------

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function when(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return String(iso);
    return date.toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
  }

  function definitions(dl, pairs) {
    const nodes = [];
    for (const [term, value, className] of pairs) {
      nodes.push(el("dt", term), el("dd", value === null || value === undefined ? "—" : value, className));
    }
    dl.replaceChildren(...nodes);
  }

  function say(text, kind) {
    const box = $("message");
    box.textContent = text;
    box.className = kind || "";
  }

  function show() {
    $("console").hidden = false;
    $("refresh").disabled = false;
  }

  function clearData() {
    for (const id of ["dlq", "queues", "stuck", "payouts-table", "payments-table", "disputes"]) {
      $(id).tBodies[0].replaceChildren();
    }
    for (const id of ["netsuite", "credentials", "recon", "alerts", "known-categories", "payouts", "payments"]) {
      $(id).replaceChildren();
    }
    for (const id of [
      "dlq-count",
      "stuck-count",
      "alerts-count",
      "payouts-count",
      "payments-count",
      "disputes-count",
      "updated",
    ]) {
      $(id).textContent = "";
    }
    $("drift").removeAttribute("src");
    if (driftUrl) URL.revokeObjectURL(driftUrl);
    driftUrl = null;
  }

  function failed(err, what) {
    if (err instanceof Unauthorized) {
      unauthorized();
    } else if (err instanceof NoToken) {
      say("Enter the OPS token to load the ops API.");
    } else if (err instanceof ApiError) {
      say(`${what}: ${err.status} ${err.message}`, "error");
    } else {
      say(`${what}: ${err && err.message ? err.message : err}`, "error");
    }
  }

  function unauthorized() {
    sessionStorage.removeItem(TOKEN_KEY);
    stopAutoRefresh();
    clearData();
    $("console").hidden = true;
    $("refresh").disabled = true;
    say(
      "401 unauthorized: the ops API refused this token. Enter the OPS_TOKEN configured on the server.",
      "error",
    );
    $("token").focus();
  }

  // --- dead letters --------------------------------------------------------------------------------------

  function messageCell(text) {
    const cell = el("td", null, "message");
    const full = text || "";
    if (full.length <= 200) {
      cell.textContent = full;
      return cell;
    }
    const details = el("details");
    details.append(el("summary", `${full.slice(0, 200)}…`), el("div", full));
    cell.append(details);
    return cell;
  }

  function deadLetterRow(entry) {
    const row = el("tr");
    row.dataset.id = String(entry.dead_letter_id);
    row.title = `${entry.task_name} on ${entry.queue}, event ${entry.event_id ?? "—"}`;
    const requeue = el("button", "Requeue", "requeue");
    requeue.type = "button";
    requeue.dataset.id = String(entry.dead_letter_id);
    requeue.addEventListener("click", () => requeueOne(entry.dead_letter_id, requeue));
    const action = el("td");
    action.append(requeue);
    row.append(
      el("td", entry.dead_letter_id, "id num"),
      el("td", entry.category, "category"),
      el("td", entry.error_code ?? "—", "code error-code"),
      el("td", entry.topic ?? "—", "code topic"),
      messageCell(entry.error_message),
      el("td", entry.attempts, "num attempts"),
      el("td", when(entry.first_failed_at), "when first-failed"),
      el("td", when(entry.last_failed_at), "when last-failed"),
      action,
    );
    return row;
  }

  function formFilter() {
    const selection = {};
    for (const [key, id] of [
      ["category", "filter-category"],
      ["error_code", "filter-error-code"],
      ["topic", "filter-topic"],
    ]) {
      const value = $(id).value.trim();
      if (value) selection[key] = value;
    }
    return selection;
  }

  const describe = (selection) =>
    Object.entries(selection)
      .map(([key, value]) => `${key}=${value}`)
      .join(", ");

  async function loadDeadLetters() {
    const params = new URLSearchParams({ status: "open", limit: String(LIST_LIMIT), ...appliedFilter });
    const data = await json(`dlq?${params}`);
    const rows = data.entries.map(deadLetterRow);
    tableRows($("dlq").tBodies[0], rows, "dlq-empty");
    const filtered = Object.keys(appliedFilter).length > 0;
    let count = filtered ? `${data.count} matching ${describe(appliedFilter)}` : `${data.count}`;
    if (!filtered && data.count >= LIST_LIMIT) count += ` (newest ${LIST_LIMIT} shown)`;
    $("dlq-count").textContent = count;
    show();
  }

  async function requeueOne(id, button) {
    button.disabled = true;
    try {
      const data = await json(`dlq/${encodeURIComponent(id)}/requeue`, { method: "POST" });
      say(data.result, "ok");
    } catch (err) {
      failed(err, `requeue of dead letter ${id}`);
      if (err instanceof Unauthorized) return;
    }
    await refresh();
  }

  async function requeueMatching() {
    const selection = formFilter();
    if (Object.keys(selection).length === 0) {
      say("Set a category, error code or topic first: this button never requeues everything.", "error");
      return;
    }
    const described = describe(selection);
    if (!window.confirm(`Requeue every open dead letter with ${described}?`)) return;
    try {
      const data = await json("dlq/requeue", { method: "POST", body: selection });
      const lines = [`requeued ${data.requeued} dead letter(s) matching ${described}`, ...data.results];
      say(lines.join("\n"), "ok");
    } catch (err) {
      failed(err, `requeue of ${described}`);
      if (err instanceof Unauthorized) return;
    }
    appliedFilter = selection;
    await refresh();
  }

  // --- status: queues, NetSuite budget, stuck orders, alerts ---------------------------------------------

  function tableRows(tbody, rows, emptyId) {
    tbody.replaceChildren(...rows);
    if (emptyId) $(emptyId).hidden = rows.length > 0;
  }

  async function loadStatus() {
    const status = await json("status");

    const queues = $("queues").tBodies[0];
    if (status.queues) {
      tableRows(
        queues,
        Object.entries(status.queues).map(([name, depth]) => {
          const row = el("tr");
          row.dataset.queue = name;
          row.append(el("td", name, "code"), el("td", depth, "num depth"));
          return row;
        }),
      );
    } else {
      const row = el("tr");
      row.append(el("td", `Redis unavailable (${status.redis_error || "error"})`), el("td", "—", "num"));
      tableRows(queues, [row]);
    }

    const ns = status.netsuite;
    const giveUps = status.governance_give_ups_24h || [];
    definitions(
      $("netsuite"),
      ns
        ? [
            ["budget", `${ns.budget} of ${ns.max_budget} slots`],
            ["slots in use", ns.in_use],
            [
              "by lane",
              Object.entries(ns.by_lane || {})
                .map(([lane, n]) => `${lane}: ${n}`)
                .join(", ") || "—",
            ],
            ["live calls waiting", ns.live_waiting],
            ["governance give-ups (24 h)", giveUps.length ? giveUps.join(", ") : "none", giveUps.length ? "alert" : ""],
          ]
        : [["budget", "unknown: Redis unavailable", "alert"]],
    );

    // The last credentials check (every 15 min): green, or red naming the missing permission(s).
    const creds = status.credentials;
    definitions(
      $("credentials"),
      creds
        ? [
            ["NetSuite", creds.netsuite, creds.netsuite === "green" ? "" : "alert"],
            ["Shopify", creds.shopify, creds.shopify === "green" ? "" : "alert"],
            ["checked", when(new Date(creds.checked_at * 1000).toISOString())],
          ]
        : [["checked", "not yet (beat runs it every 15 minutes)"]],
    );

    const stuck = status.stuck_orders || [];
    tableRows(
      $("stuck").tBodies[0],
      stuck.map((order) => {
        const row = el("tr");
        row.dataset.orderId = String(order.order_id);
        row.append(
          el("td", order.order_id, "id"),
          el("td", order.name ?? "—"),
          el("td", order.state, "code"),
          el("td", when(order.since), "when"),
        );
        return row;
      }),
      "stuck-empty",
    );
    $("stuck-count").textContent = String(stuck.length);

    showPayouts(status.payouts);
    showPayments(status.payments);
    showDisputes(status.disputes);

    const alerts = status.open_alerts || [];
    $("alerts").replaceChildren(
      ...alerts.map((alert) => el("li", `${when(alert.at)} [${alert.kind}] ${alert.message}`)),
    );
    $("alerts-count").textContent = String(alerts.length);

    const categories = Object.keys((status.dlq && status.dlq.by_category) || {}).sort();
    $("known-categories").replaceChildren(
      ...categories.map((name) => {
        const option = el("option");
        option.value = name;
        return option;
      }),
    );
    show();
  }

  // --- money: payouts and disputes ----------------------------------------------------------------------

  function cells(row, values) {
    row.append(...values.map(([text, className]) => el("td", text ?? "—", className)));
    return row;
  }

  function showPayouts(payouts) {
    if (!payouts) return;
    const age = (figures) =>
      figures.count ? `${figures.count}, oldest ${when(figures.oldest_issued_at)} (${figures.oldest_age_hours} h)` : "0";
    const variances = Object.entries(payouts.variance.by_currency).map(
      ([currency, v]) => `${v.count} ${currency} (Σ ${v.sum}, oldest ${when(v.oldest_issued_at)})`,
    );
    definitions($("payouts"), [
      ["waiting for receipts", age(payouts.waiting), payouts.waiting.count ? "alert" : ""],
      ["with a variance", variances.join("; ") || "0", variances.length ? "alert" : ""],
      ["reversed", payouts.reversed.count, payouts.reversed.count ? "alert" : ""],
      ["failed to post", age(payouts.failed), payouts.failed.count ? "alert" : ""],
    ]);
    tableRows(
      $("payouts-table").tBodies[0],
      payouts.attention.map((payout) => {
        const row = el("tr");
        row.dataset.payoutId = payout.payout_id;
        return cells(row, [
          [payout.payout_id, "id"],
          [payout.state, "code"],
          [payout.currency],
          [payout.net, "num"],
          [payout.variance, payout.variance === "0.00" ? "num" : "num alert"],
          [payout.missing, "num"],
          [when(payout.issued_at), "when"],
          [payout.reason],
        ]);
      }),
      "payouts-empty",
    );
    $("payouts-count").textContent = String(payouts.attention.length);
  }

  function showPayments(payments) {
    if (!payments) return;
    const gaps = payments.gaps || [];
    const byGateway = Object.entries(payments.by_gateway || {}).map(
      ([gateway, v]) => `${v.count} ${gateway} (Σ ${v.sum})`,
    );
    definitions($("payments"), [
      ["last check", payments.checked_at ? when(payments.checked_at) : "never", ""],
      payments.skipped
        ? ["not checked", payments.skipped, ""]
        : ["orders with a gap", `${payments.orders_with_gap} of ${payments.orders_checked}`, gaps.length ? "alert" : ""],
      ["by gateway", byGateway.join("; ") || "0", byGateway.length ? "alert" : ""],
    ]);
    tableRows(
      $("payments-table").tBodies[0],
      gaps.map((gap) => {
        const row = el("tr");
        row.dataset.orderId = String(gap.order_id);
        return cells(row, [
          [String(gap.order_id), "id"],
          [gap.name],
          [gap.gateway, "code"],
          [gap.shopify, "num"],
          [gap.netsuite, "num"],
          [gap.difference, "num alert"],
          [gap.age_hours === null ? null : String(gap.age_hours), "num"],
        ]);
      }),
      "payments-empty",
    );
    $("payments-count").textContent = String(gaps.length);
  }

  function showDisputes(disputes) {
    if (!disputes) return;
    tableRows(
      $("disputes").tBodies[0],
      disputes.list.map((dispute) => {
        const row = el("tr");
        row.dataset.disputeId = String(dispute.dispute_id);
        const overdue = dispute.status === "NEEDS_RESPONSE" && dispute.due_in_hours !== null && dispute.due_in_hours < 72;
        return cells(row, [
          [dispute.dispute_id, "id"],
          [dispute.order_id, "id"],
          [dispute.status, "code"],
          [dispute.type, "code"],
          [`${dispute.amount} ${dispute.currency}`, "num"],
          [dispute.reason, "code"],
          [when(dispute.evidence_due_by), overdue ? "when alert" : "when"],
        ]);
      }),
      "disputes-empty",
    );
    $("disputes-count").textContent = String(disputes.open);
  }

  // --- reconciliation ------------------------------------------------------------------------------------

  async function loadReconciliation() {
    const runs = await json("reconciliations");
    const last = runs[0];
    $("recon-empty").hidden = Boolean(last);
    definitions(
      $("recon"),
      last
        ? [
            ["run", `#${last.id} ${last.kind}, ${last.trigger}${last.dry_run ? ", dry run" : ""}`],
            ["status", last.status],
            ["started", when(last.started_at)],
            ["finished", when(last.finished_at)],
            ["SKUs compared", last.skus_compared],
            ["diffs found", last.diffs_found],
            ["corrections applied", last.corrections_applied],
            ["orders checked", last.orders_checked],
            ["orders healed", last.orders_healed],
            ["total mismatches", last.mismatches],
            ["alert", last.alert || "none", last.alert ? "alert" : ""],
          ]
        : [],
    );
    show();
    await loadDrift();
  }

  async function loadDrift() {
    const resp = await call("reconciliations/drift.svg", { accept: "image/svg+xml" });
    if (!resp.ok) throw new ApiError(resp.status, "drift plot not available");
    const blob = await resp.blob();
    const previous = driftUrl;
    driftUrl = URL.createObjectURL(blob);
    $("drift").src = driftUrl;
    if (previous) URL.revokeObjectURL(previous);
  }

  // --- refresh -------------------------------------------------------------------------------------------

  async function refreshOnce() {
    if (!token()) return false;
    const results = await Promise.allSettled([loadDeadLetters(), loadStatus(), loadReconciliation()]);
    const errors = results.filter((r) => r.status === "rejected").map((r) => r.reason);
    if (errors.some((e) => e instanceof Unauthorized)) {
      unauthorized();
      return false;
    }
    if (errors.length) {
      failed(errors[0], "loading");
      return false;
    }
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    return true;
  }

  // One refresh at a time; a refresh asked for meanwhile runs once more after it (it must see newer data).
  function refresh() {
    if (inflight) {
      again = true;
      return inflight;
    }
    inflight = (async () => {
      let ok = false;
      try {
        do {
          again = false;
          ok = await refreshOnce();
        } while (again && token());
      } finally {
        inflight = null;
      }
      return ok;
    })();
    return inflight;
  }

  function stopAutoRefresh() {
    if (autoTimer) clearInterval(autoTimer);
    autoTimer = null;
    $("auto-refresh").checked = false;
  }

  // --- wiring --------------------------------------------------------------------------------------------

  $("token-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const value = $("token").value.trim();
    if (!value) return;
    sessionStorage.setItem(TOKEN_KEY, value);
    $("token").value = "";
    say("Connecting…");
    if (await refresh()) say("Connected to the ops API.", "ok");
  });

  $("forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    stopAutoRefresh();
    clearData();
    $("console").hidden = true;
    $("refresh").disabled = true;
    say("Token forgotten. Enter the OPS token to load the ops API.");
  });

  $("refresh").addEventListener("click", () => refresh());

  $("auto-refresh").addEventListener("change", (event) => {
    if (autoTimer) clearInterval(autoTimer);
    autoTimer = event.target.checked ? setInterval(() => refresh(), AUTO_REFRESH_MS) : null;
  });

  $("dlq-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    appliedFilter = formFilter();
    refresh();
  });

  $("filter-clear").addEventListener("click", () => {
    for (const id of ["filter-category", "filter-error-code", "filter-topic"]) $(id).value = "";
    appliedFilter = {};
    refresh();
  });

  $("requeue-matching").addEventListener("click", () => requeueMatching());

  if (token()) {
    say("Loading…");
    refresh().then((ok) => {
      if (ok) say("Connected to the ops API.", "ok");
    });
  }
})();
