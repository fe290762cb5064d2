// Rejoinder's widget. On a page with
//   <script src="https://comments.example/embed.js" data-site="news" async></script>
//   <div id="rejoinder-thread" data-page-id="…" data-title="…" data-url="…"></div>
// it shows the page's discussion as the server renders it (one HTML fragment, the same
// markup as Rejoinder's own article page), in a shadow root so that neither page's styles
// reach the other. Posts, edits and deletions go to the server as JSON; the writer's edit
// tokens stay in this page's storage (no third-party cookie), sent back in a header. What
// others post, edit or delete arrives over the discussion's event stream (docs/LIVE.md).
// It talks to no server but the one it came from.
(function () {
  "use strict";
  // Every reader-facing string of the widget, in one place, each marked _() for the message
  // catalogues (scripts/i18n); the fragment brings their translations (its data-strings).
  function _(text) { return text; }
  var ENGLISH = {
    count: [_("No comments yet"), _("1 Comment"), _("{n} Comments")],
    edit: _("Edit"), del: _("Delete"), save: _("Save"), cancel: _("Cancel"),
    confirmDelete: _("Delete this comment? This cannot be undone."),
    posted: _("Your comment was posted."), held: _("Your comment is awaiting moderation."),
    address: _("Your comment waits for you to confirm your email address: follow the link in the mail we sent you."),
    edited: _("Your comment was changed."), deleted: _("Your comment was deleted."),
    more: _("{n} more comments shown."), newComment: _("New comment by {name}."),
    failed: _("The comment server could not be reached. Please try again."),
    refuse: _("This would not be posted because {why}. Edit your comment, or post it anyway."),
    hold: _("This may be held for a moderator because {why}. Edit your comment, or post it anyway."),
    anyway: _("Post anyway"), error: _("Error: ")
  };
  var T = ENGLISH;
  function translated(strings) {
    var out = {};
    Object.keys(ENGLISH).forEach(function (name) {
      var value = ENGLISH[name];
      out[name] = Array.isArray(value) ?
        value.map(function (text) { return strings[text] || text; }) : strings[value] || value;
    });
    return out;
  }
  var script = document.currentScript;
  if (!script) return;
  var base = script.src.replace(/\/embed\.js([?#].*)?$/, "");
  var site = script.getAttribute("data-site") || "default";
  var api = base + "/embed/" + encodeURIComponent(site);
  var host, root, box, live, slug, editMinutes = 0;
  var key = "rejoinder-edit:" + base + ":" + site;
  var tokens = {};

  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, name) { return values[name]; });
  }
  function make(tag, attrs, text) {
    var el = document.createElement(tag);
    for (var name in attrs) el.setAttribute(name, attrs[name]);
    if (text) el.textContent = text;
    return el;
  }
  function $(selector, from) { return (from || root).querySelector(selector); }
  function say(text) { live.textContent = ""; setTimeout(function () { live.textContent = text; }, 50); }

  function loadTokens() {
    try { tokens = JSON.parse(localStorage.getItem(key)) || {}; } catch (e) { tokens = {}; }
    var now = Date.now();
    for (var id in tokens) if (tokens[id].until < now) delete tokens[id];
  }
  function keepToken(id, token) {
    tokens[id] = { token: token, until: Date.now() + editMinutes * 60000 };
    try { localStorage.setItem(key, JSON.stringify(tokens)); } catch (e) { /* kept in memory */ }
  }

  // The proof of the addresses this writer confirmed: the confirmation page sends the reader
  // back with it in the fragment; it is kept like the edit tokens and sent with each post.
  var proofKey = "rejoinder-verified:" + base;
  function keepProof() {
    var match = /(?:^#|&)rejoinder-verified=([^&]+)/.exec(location.hash);
    if (!match) return;
    try { localStorage.setItem(proofKey, decodeURIComponent(match[1])); } catch (e) { /* none kept */ }
    history.replaceState(null, "", location.pathname + location.search);
  }
  function proof() {
    try { return localStorage.getItem(proofKey) || ""; } catch (e) { return ""; }
  }

  function request(method, path, body, headers) {
    var options = { method: method, credentials: "omit", headers: headers || {} };
    if (lang()) options.headers["Accept-Language"] = lang();  // messages in the widget's language
    if (body) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { ok: response.ok, status: response.status, data: data };
      });
    });
  }

  function fragment(params) {
    var query = new URLSearchParams(params);
    return fetch(api + "/thread?" + query, { credentials: "omit" }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.text();
    });
  }

  // The embedding tag's data-lang (on the thread's element or the script), if it has one.
  function lang() {
    return (host && host.getAttribute("data-lang")) || script.getAttribute("data-lang") || "";
  }

  function pageParams(extra) {
    var data = host.dataset;
    var canonical = document.querySelector("link[rel=canonical]");
    var url = data.url || (canonical && canonical.href) || location.href.split("#")[0];
    var params = { title: data.title || document.title, url: url };
    if (data.pageId) params.page_id = data.pageId;  // else the server keys the page by its URL
    if (lang()) params.lang = lang();
    if (Object.keys(tokens).length) params.fresh = "1";  // a writer sees their own posts at once
    for (var name in extra) params[name] = extra[name];
    return params;
  }

  function parse(html) {
    var holder = document.createElement("div");
    holder.innerHTML = html;
    return holder;
  }

  // Links in the fragment are the server's: make them absolute, reports in a new tab.
  function adopt(scope) {
    scope.querySelectorAll("a[href^='/']").forEach(function (a) {
      a.href = base + a.getAttribute("href");
      if (a.classList.contains("report")) { a.target = "_blank"; a.rel = "nofollow noopener"; }
    });
    var items = [].slice.call(scope.querySelectorAll("li.comment"));
    if (scope.matches("li.comment")) items.push(scope);
    items.forEach(function (li) {
      var id = li.id.slice(8);
      var actions = li.querySelector(":scope > .comment-body > .comment-actions");
      if (tokens[id] && actions && !actions.querySelector(".rj-edit")) {
        actions.appendChild(make("button", { type: "button", "class": "rj-edit", "data-id": id }, T.edit));
        actions.appendChild(make("button", { type: "button", "class": "rj-delete", "data-id": id }, T.del));
      }
    });
  }

  function show(html) {
    box.innerHTML = html;
    var section = $("#comments");
    slug = section.getAttribute("data-slug");
    editMinutes = +section.getAttribute("data-edit-minutes");
    try {
      T = translated(JSON.parse(section.getAttribute("data-strings") || "{}"));
    } catch (error) {
      T = ENGLISH;
    }
    adopt(box);
    var form = $("#commentform");
    if (form) form.addEventListener("submit", submit);
    listen(section);
    var target = location.hash && root.getElementById(location.hash.slice(1));
    if (target) target.scrollIntoView();
  }

  function setCount(n) {
    var shown = n.toLocaleString($("#comments").getAttribute("lang") || undefined);
    $("#comments-title").textContent = fill(T.count[Math.min(n, 2)], { n: shown });
  }

  function levelOf(li) {
    var match = /\blevel-(\d+)\b/.exec(li.className);
    return match ? +match[1] : 0;
  }

  // Inserts a comment's list item where it belongs (one already shown gets its writer's
  // buttons); `level`, from a live event, says whether a reply nests or, past the last
  // shown level, follows its parent.
  function insertComment(html, parentId, mine, level) {
    var li = parse(html).firstElementChild;
    if (!li) return null;
    var shown = root.getElementById(li.id);
    if (shown) { adopt(shown); return shown; }
    var list;
    if (parentId) {
      var parent = root.getElementById("comment-" + parentId);
      if (!parent) return null;
      list = $(":scope > ol.children", parent);
      if (level !== undefined && level <= levelOf(parent)) list = parent.parentNode;
      else if (!list) list = parent.appendChild(make("ol", { "class": "children" }));
    } else {
      list = $("ol.comment-list");
    }
    var newest = $("#comments").getAttribute("data-sort") === "newest";
    if (newest && !parentId) list.insertBefore(li, list.firstChild); else list.appendChild(li);
    li.classList.add("rj-new");
    adopt(li);
    if (!mine) say(fill(T.newComment, { name: ($(".author", li) || {}).textContent || "" }));
    return li;
  }

  // Live updates. Each event carries the comment's HTML in every language; the widget takes
  // its own. A top-level comment that would not be on the pages shown is left for later.
  var stream = null, shownVersion = 0, refreshedAt = 0;
  function inOwnLanguage(all, english) {
    return (all && all[$("#comments").getAttribute("lang")]) || english;
  }
  function seen(data) { shownVersion = Math.max(shownVersion, data.version || 0); }
  function arrived(data) {
    seen(data);
    if (!data.html) return;
    var html = inOwnLanguage(data.html_lang, data.html);
    var existing = root.getElementById("comment-" + data.id);
    if (existing && existing.classList.contains("held-comment")) {  // the writer's own, approved
      var li = parse(html).firstElementChild;
      if (li) { existing.replaceWith(li); adopt(li); }
      return;
    }
    if (existing) return;
    if (!data.parent_id && $("#comments").getAttribute("data-sort") !== "newest" && $("p.more")) return;
    insertComment(html, data.parent_id, false, data.level);
  }
  function changed(data) {
    seen(data);
    var li = root.getElementById("comment-" + data.id);
    if (!li || $(":scope > .comment-body > .rj-editor", li)) return;  // being edited here
    if (!data.html) {
      // No longer shown to readers; its writer still sees it, as the server shows them.
      if (!tokens[data.id]) li.remove();
      return;
    }
    var fresh = parse(inOwnLanguage(data.html_lang, data.html)).firstElementChild;
    var body = fresh && $(":scope > .comment-body", fresh);
    var old = $(":scope > .comment-body", li);
    if (!body || !old) return;
    li.className = fresh.className;
    old.replaceWith(body);
    adopt(li);
  }
  // The thread moved on while no stream was open: fetch it again unless the reader is
  // writing (at most twice a minute).
  function refresh() {
    var form = $("#commentform");
    var busy = $(".rj-editor") || (form && (form.elements.body.value || $("#parent_id").value));
    if (busy || Date.now() - refreshedAt < 30000) return;
    refreshedAt = Date.now();
    var sort = $("#comments").getAttribute("data-sort");
    fragment(pageParams({ sort: sort, fresh: "1" })).then(show, function () { /* kept as is */ });
  }
  function listen(section) {
    if (stream) stream.close();
    shownVersion = +section.getAttribute("data-version") || 0;
    var path = section.getAttribute("data-live");  // on the server the widget came from
    if (!path || !window.EventSource) return;
    var url = base + path;
    var handlers = {
      ready: function (data) { if (data.version > shownVersion) refresh(); },
      reset: refresh,
      comment: arrived, approved: arrived, edited: changed, deleted: changed,
      count: function (data) { seen(data); setCount(data.count); }
    };
    var last = null, timer = null, source = null, closed = false;
    // EventSource reconnects by itself with Last-Event-ID; when the server refuses (at its
    // stream limit, or restarting) it gives up, so a new one is opened later.
    function open() {
      source = new EventSource(last === null ? url : url + "?last_event_id=" + encodeURIComponent(last));
      Object.keys(handlers).forEach(function (type) {
        source.addEventListener(type, function (event) {
          if (event.lastEventId) last = event.lastEventId;
          var data;
          try { data = JSON.parse(event.data); } catch (e) { return; }
          handlers[type](data);
        });
      });
      source.onerror = function () {
        if (source.readyState === EventSource.CLOSED && !closed) {
          clearTimeout(timer);
          timer = setTimeout(open, 15000 + Math.random() * 15000);
        }
      };
    }
    open();
    stream = { close: function () { closed = true; clearTimeout(timer); source.close(); } };
  }

  // The form: messages beside their fields, the pre-submit check, then the post.
  function clearErrors(form) {
    form.querySelectorAll(".field-error, .rj-alert, .precheck").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      el.closest(".field").classList.remove("has-error");
      var described = (el.getAttribute("aria-describedby") || "").replace(el.id + "-error", "").trim();
      if (described) el.setAttribute("aria-describedby", described); else el.removeAttribute("aria-describedby");
    });
  }
  function showError(form, field, message) {
    var input = field && form.querySelector("#" + CSS.escape(field) + ":not([type=hidden])");
    if (!input) {
      var alert = make("p", { "class": "rj-alert", role: "alert" }, message);
      form.insertBefore(alert, form.firstChild);
      return;
    }
    var note = make("p", { "class": "field-error", id: field + "-error" });
    note.appendChild(make("span", { "class": "visually-hidden" }, T.error));
    note.appendChild(document.createTextNode(message));
    var label = form.querySelector("label[for=" + CSS.escape(field) + "]") || input.previousSibling;
    label.parentNode.insertBefore(note, label.nextSibling);
    input.closest(".field").classList.add("has-error");
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + field + "-error").trim());
    input.focus();
  }

  function values(form) {
    var get = function (name) { var el = form.elements[name]; return el ? el.value : ""; };
    var parent = get("parent_id");
    return {
      body: get("body"), name: get("name"), email: get("email"), website: get("website"),
      notify_replies: !!(form.elements.notify && form.elements.notify.checked),
      follow_discussion: !!(form.elements.follow && form.elements.follow.checked), parent_id: parent ? +parent : null,
      form_token: get("issued"), homepage: get("homepage")
    };
  }

  var checked = null;
  function submit(event) {
    event.preventDefault();
    var form = event.target;
    var sent = values(form);
    clearErrors(form);
    if (!sent.body.trim() || checked === sent.body) return post(form, sent);
    checked = sent.body;
    request("POST", "/check", { text: sent.body, name: sent.name, email: sent.email, website: sent.website })
      .then(function (answer) {
        var result = answer.ok && answer.data;
        if (result && result.verdict !== "publish" && result.reasons.length) offer(form, sent, result);
        else post(form, sent);
      }, function () { post(form, sent); });
  }

  function offer(form, sent, result) {
    var why = result.reasons.map(function (r) { return r.message; }).join("; ");
    var notice = make("div", { "class": "precheck", role: "status" });
    notice.appendChild(make("p", {}, fill(result.verdict === "refuse" ? T.refuse : T.hold, { why: why })));
    var edit = notice.appendChild(make("button", { type: "button" }, T.edit));
    var anyway = notice.appendChild(make("button", { type: "button" }, T.anyway));
    edit.addEventListener("click", function () { form.elements.body.focus(); });
    anyway.addEventListener("click", function () { notice.remove(); post(form, values(form)); });
    var submitRow = form.querySelector(".submit");
    submitRow.parentNode.insertBefore(notice, submitRow);
  }

  function post(form, sent) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var proven = proof();
    request("POST", "/articles/" + slug + "/comments", sent,
      proven ? { "X-Rejoinder-Verified": proven } : null).then(function (answer) {
      button.disabled = false;
      if (!answer.ok) return showError(form, answer.data.field || "body", answer.data.message || T.failed);
      var data = answer.data;
      keepToken(data.comment.id, data.edit_token);
      restoreForm();
      form.elements.body.value = "";
      checked = null;
      var li = insertComment(data.html, sent.parent_id, true);
      setCount(data.comment_count);
      var waits = li && li.querySelector(".awaiting-address");
      say(answer.status === 202 ? (waits ? T.address : T.held) : T.posted);
      if (li) li.scrollIntoView({ block: "nearest" });
    }, function () {
      button.disabled = false;
      showError(form, null, T.failed);
    });
  }

  // Replying in place: the form moves under the comment and back.
  function replyTo(link) {
    var item = root.getElementById("comment-" + link.getAttribute("data-reply-to"));
    var respond = $("#respond");
    if (!item || !respond) return;
    $(":scope > .comment-body", item).after(respond);
    $("#parent_id").value = link.getAttribute("data-reply-to");
    $("#replying-to-name").textContent = link.getAttribute("data-reply-name");
    $("#replying-to").hidden = false;
    $("#body").focus();
  }
  function restoreForm() {
    var respond = $("#respond");
    var parentId = $("#parent_id");
    if (!respond || !parentId.value) return;
    var back = root.getElementById("comment-" + parentId.value);
    $("#comments").appendChild(respond);
    parentId.value = "";
    $("#replying-to").hidden = true;
    var link = back && $("a.reply", back);
    if (link) link.focus();
  }

  // Edit and delete, within the window, with the token kept when the comment was posted.
  function editor(button) {
    var id = button.getAttribute("data-id");
    var li = root.getElementById("comment-" + id);
    var text = $(":scope > .comment-body > .text", li);
    var headers = { "X-Rejoinder-Edit": tokens[id].token };
    if (!text || text.hidden) return;
    text.hidden = true;
    // The Markdown as written first, so that nothing arriving late replaces what is typed.
    request("GET", "/comments/" + id, null, headers).then(function (answer) {
      open(answer.ok ? answer.data.body : text.innerText.trim());
    }, function () { open(text.innerText.trim()); });

    function open(written) {
      var form = make("form", { "class": "rj-editor" });
      var area = form.appendChild(make("textarea", { rows: "5", "aria-label": T.edit }));
      area.value = written;
      form.appendChild(make("button", { type: "submit" }, T.save));
      var cancel = form.appendChild(make("button", { type: "button" }, T.cancel));
      text.after(form);
      area.focus();
      cancel.addEventListener("click", function () { form.remove(); text.hidden = false; button.focus(); });
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        form.querySelectorAll(".field-error").forEach(function (el) { el.remove(); });
        var failed = function (message) {
          form.insertBefore(make("p", { "class": "field-error", role: "alert" }, message || T.failed), area);
          area.focus();
        };
        request("PATCH", "/comments/" + id, { body: area.value }, headers).then(function (answer) {
          if (!answer.ok) return failed(answer.data.message);
          var fresh = parse(answer.data.html).firstElementChild;
          $(":scope > .comment-body", li).replaceWith($(":scope > .comment-body", fresh));
          adopt(li);
          setCount(answer.data.comment_count);
          say(answer.status === 202 ? T.held : T.edited);
          $(".rj-edit", li).focus();
        }, function () { failed(); });
      });
    }
  }

  function remove(button) {
    var id = button.getAttribute("data-id");
    if (!window.confirm(T.confirmDelete)) return;
    request("DELETE", "/comments/" + id, null, { "X-Rejoinder-Edit": tokens[id].token }).then(function (answer) {
      if (!answer.ok) return say(answer.data.message || T.failed);
      var li = root.getElementById("comment-" + id);
      if (answer.data.kept_place) {
        var body = $(":scope > .comment-body", li);
        body.querySelector(".text").replaceChildren(make("p", { "class": "placeholder" }, answer.data.placeholder));
        body.querySelector(".author").textContent = answer.data.placeholder;
        body.querySelectorAll(".comment-actions, .says, .edited").forEach(function (el) { el.remove(); });
      } else {
        li.remove();
      }
      delete tokens[id];
      setCount(answer.data.comment_count);
      say(T.deleted);
    });
  }

  function more(link) {
    if (link.getAttribute("aria-disabled")) return;
    link.setAttribute("aria-disabled", "true");
    var sort = $("#comments").getAttribute("data-sort");
    fragment(pageParams({ sort: sort, cursor: link.getAttribute("data-cursor") })).then(function (html) {
      var next = parse(html);
      var items = next.querySelectorAll("ol.comment-list > li");
      var list = $("ol.comment-list");
      var first = null;
      items.forEach(function (li) { list.appendChild(li); first = first || li; });
      adopt(list);
      var paragraph = link.parentNode;
      var further = $("p.more", next);
      if (further) { adopt(further); paragraph.replaceWith(further); } else paragraph.remove();
      say(fill(T.more, { n: items.length }));
      if (first) { var a = $("a.permalink", first); if (a) a.focus(); }
    }, function () { link.removeAttribute("aria-disabled"); say(T.failed); });
  }

  function click(event) {
    var target = event.target.closest && event.target.closest("a, button");
    if (!target) return;
    var is = function (selector) { return target.matches(selector); };
    if (is("a.reply[data-reply-to]")) replyTo(target);
    else if (is("#cancel-reply")) restoreForm();
    else if (is("a[data-sort]")) {
      fragment(pageParams({ sort: target.getAttribute("data-sort") })).then(show, function () { say(T.failed); });
    }
    else if (is("a[rel=next][data-cursor]")) more(target);
    else if (is(".rj-edit")) editor(target);
    else if (is(".rj-delete")) remove(target);
    else return;
    event.preventDefault();
  }

  function start() {
    host = document.getElementById("rejoinder-thread");
    if (!host || host.shadowRoot) return;
    loadTokens();
    keepProof();
    root = host.attachShadow({ mode: "open" });
    var css = make("link", { rel: "stylesheet", href: base + "/embed.css" });
    var styled = new Promise(function (done) { css.onload = css.onerror = done; });
    live = make("div", { "class": "rj-live", role: "status", "aria-live": "polite" });
    box = make("div", { "class": "rj" });
    root.append(css, live, box);
    root.addEventListener("click", click);
    root.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && $("#parent_id") && $("#parent_id").value) restoreForm();
    });
    host.rejoinder = { insertComment: insertComment, setCount: setCount };
    Promise.all([fragment(pageParams({})), styled]).then(function (done) { show(done[0]); }, function () {
      box.appendChild(make("p", { "class": "rj-note", role: "alert" }, T.failed));
    });
  }

  // The tag usually comes after the div: start at once rather than wait for the whole page.
  if (document.getElementById("rejoinder-thread")) start();
  else document.addEventListener("DOMContentLoaded", start);
})();
