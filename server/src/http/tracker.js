/* quizfunnel tracking: page views, custom events and identify for this
   site's visitors. Never throws into the host page. */
(function (w, d) {
  "use strict";
  try {
    var old = w.quizfunnel;
    if (old && old.loaded) return;
    var KEY = "__SITE_KEY__", NAME = "qf_vid", OK = /^[A-Za-z0-9_-]{8,64}$/;
    var me = d.currentScript || d.querySelector('script[src$="/t.js"]');
    var base = new URL(me.src, location.href).origin;
    var vid = null;
    try {
      var p = new URLSearchParams(location.search).get(NAME);
      var m = d.cookie.match(/(?:^|;\s*)qf_vid=([A-Za-z0-9_-]{8,64})/);
      var s = w.localStorage && localStorage.getItem(NAME);
      vid = (p && OK.test(p) && p) || (m && m[1]) || (s && OK.test(s) && s) || null;
    } catch (e) {}
    // Ids and keys start with the time, so the server files new ones at
    // the end of its indexes instead of on random pages.
    var hex = function (t) { return ("00000000000" + t.toString(16)).slice(-12); };
    if (!vid) {
      var a = new Uint8Array(16);
      crypto.getRandomValues(a);
      vid = hex(Date.now()) + Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    }
    try {
      d.cookie = NAME + "=" + vid + "; path=/; max-age=63072000; samesite=lax" +
        (location.protocol === "https:" ? "; secure" : "");
      localStorage.setItem(NAME, vid);
    } catch (e) {}
    var n = 0;
    var send = function (path, body) {
      try {
        var url = base + path + "?site_key=" + encodeURIComponent(KEY), data = JSON.stringify(body);
        if (navigator.sendBeacon && navigator.sendBeacon(url, data)) return;
        fetch(url, { method: "POST", body: data, keepalive: true, mode: "no-cors", credentials: "omit" })
          .catch(function () {});
      } catch (e) {}
    };
    var obj = function (x) { return x && typeof x === "object" && !Array.isArray(x) ? x : {}; };
    var track = function (name, props) {
      send("/api/v1/events", [{
        name: String(name), visitor_id: vid, properties: obj(props),
        idempotency_key: hex(Date.now()) + "-" + vid + "-" + (n++) + "-" + Math.random().toString(36).slice(2, 8)
      }]);
    };
    var identify = function (email, attrs) {
      send("/api/v1/identify", { email: String(email), visitor_id: vid, attributes: obj(attrs) });
    };
    var page = function () {
      var props = { path: location.pathname, title: d.title, referrer: d.referrer };
      try {
        new URLSearchParams(location.search).forEach(function (v, k) { if (/^utm_/.test(k)) props[k] = v; });
      } catch (e) {}
      track("page_viewed", props);
    };
    // Links to our quiz pages carry the visitor id, so the quiz knows them.
    d.addEventListener("click", function (ev) {
      try {
        var el = ev.target && ev.target.closest && ev.target.closest("a[href]");
        if (!el) return;
        var u = new URL(el.href, location.href);
        if (u.origin === base && !u.searchParams.has(NAME)) { u.searchParams.set(NAME, vid); el.href = u.href; }
      } catch (e) {}
    }, true);
    var api = { loaded: true, track: track, identify: identify, page: page, visitorId: function () { return vid; } };
    var queue = (old && old.q) || [];
    w.quizfunnel = api;
    page();
    for (var i = 0; i < queue.length; i++) {
      try { api[queue[i][0]].apply(null, queue[i][1]); } catch (e) {}
    }
  } catch (e) {}
})(window, document);
