// Live updates: new comments, edits, deletions and the count arrive while the page is open.
// `Rejoinder.subscribe(url, handlers)` is the reusable part (the embed widget can use it too);
// the rest places what arrives on the article page. Without this script the page is the same,
// only still: a reload shows what happened. The events are described in docs/LIVE.md.
(function () {
  "use strict";

  // Open an event stream and call handlers[type](data, id) for each event. EventSource
  // reconnects by itself with Last-Event-ID; when the server refuses (503 at its stream
  // limit, or a restart) it gives up, so we open a new one later, saying where we were.
  function subscribe(url, handlers, options) {
    var wait = (options && options.retryMs) || 15000;
    var last = null;
    var source = null;
    var timer = null;
    var closed = false;
    function open() {
      var full = url;
      if (last !== null) full += (url.indexOf("?") < 0 ? "?" : "&") + "last_event_id=" + encodeURIComponent(last);
      source = new EventSource(full);
      Object.keys(handlers).forEach(function (type) {
        source.addEventListener(type, function (event) {
          if (event.lastEventId) last = event.lastEventId;
          var data = null;
          try { data = JSON.parse(event.data); } catch (e) { return; }
          handlers[type](data, event.lastEventId);
        });
      });
      source.addEventListener("error", function () {
        if (source.readyState === EventSource.CLOSED && !closed) {
          clearTimeout(timer);
          timer = setTimeout(open, wait + Math.random() * wait);
        }
      });
    }
    open();
    return {
      close: function () {
        closed = true;
        clearTimeout(timer);
        if (source) source.close();
      }
    };
  }

  window.Rejoinder = window.Rejoinder || {};
  window.Rejoinder.subscribe = subscribe;

  var section = document.querySelector("section[data-live]");
  var status = document.getElementById("live-status");
  if (!section || !status || !window.EventSource) return;
  var pageVersion = parseInt(section.getAttribute("data-version"), 10) || 0;
  var heading = document.getElementById("comments-title");
  var elsewhere = 0;
  var notice = null;

  function say(text) {
    // Cleared first, so that the same words twice are announced twice.
    status.textContent = "";
    setTimeout(function () { status.textContent = text; }, 50);
  }

  function showNotice(text) {
    if (!notice) {
      notice = document.createElement("p");
      notice.className = "live-notice";
      heading.parentNode.insertBefore(notice, heading.nextSibling);
    }
    notice.textContent = text + " ";
    var link = document.createElement("a");
    link.href = window.location.href.split("#")[0] + "#comments";
    link.textContent = status.getAttribute("data-reload-link");
    link.addEventListener("click", function (event) {
      event.preventDefault();
      window.location.reload();
    });
    notice.appendChild(link);
  }

  function fragment(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    return holder.content.firstElementChild;
  }

  function topList() {
    var list = section.querySelector("ol.comment-list");
    if (list && !list.closest(".held")) return list;
    list = document.createElement("ol");
    list.className = "comment-list";
    var before = section.querySelector(".held, p.more, #respond");
    section.insertBefore(list, before);
    return list;
  }

  function levelOf(item) {
    var match = /\blevel-(\d+)\b/.exec(item.className);
    return match ? parseInt(match[1], 10) : 0;
  }

  // Where the page would have put it on a reload; false when it is not on this page.
  function place(item, data) {
    if (data.parent_id === null) {
      var sort = section.getAttribute("data-sort");
      var more = section.querySelector('a[rel="next"]');
      if (sort === "newest" && !section.hasAttribute("data-cursor")) {
        var list = topList();
        list.insertBefore(item, list.firstElementChild);
        return true;
      }
      if (sort !== "newest" && !more) {
        topList().appendChild(item);
        return true;
      }
      return false;
    }
    var parent = document.getElementById("comment-" + data.parent_id);
    if (!parent || parent.closest(".held")) return false;
    if (data.level > levelOf(parent)) {
      var children = parent.querySelector(":scope > ol.children");
      if (!children) {
        children = document.createElement("ol");
        children.className = "children";
        parent.appendChild(children);
      }
      children.appendChild(item);
    } else {
      // Past the last shown level replies follow their parent at the same level.
      parent.parentNode.appendChild(item);
    }
    return true;
  }

  // Each event carries its HTML in every language; the page takes its own.
  var lang = document.documentElement.lang;
  function inPageLanguage(all, english) {
    return (all && all[lang]) || english;
  }

  function arrived(data) {
    if (!data.html) return;
    var existing = document.getElementById("comment-" + data.id);
    if (existing && !existing.closest(".held")) return;  // already on the page
    if (existing) {  // the writer's own comment, approved: out of "Awaiting moderation"
      var held = existing.closest(".held");
      existing.parentNode.removeChild(existing);
      if (held && !held.querySelector("li")) held.parentNode.removeChild(held);
    }
    var item = fragment(inPageLanguage(data.html_lang, data.html));
    if (!item) return;
    if (place(item, data)) {
      item.classList.add("live-new");
      var author = item.querySelector(".author");
      say(status.getAttribute("data-new").replace("{name}", author ? author.textContent : ""));
    } else {
      elsewhere += 1;
      showNotice(status.getAttribute("data-elsewhere").replace("{count}", elsewhere));
    }
  }

  function changed(data) {
    var existing = document.getElementById("comment-" + data.id);
    if (!existing || existing.closest(".held")) return;
    if (!data.html) {
      existing.parentNode.removeChild(existing);
      return;
    }
    var item = fragment(inPageLanguage(data.html_lang, data.html));
    var body = item && item.querySelector(".comment-body");
    var old = existing.querySelector(":scope > .comment-body");
    if (!body || !old) return;
    existing.className = item.className;
    old.parentNode.replaceChild(body, old);
  }

  subscribe(section.getAttribute("data-live"), {
    ready: function (data) {
      if (data.version > pageVersion) showNotice(status.getAttribute("data-reload"));
      pageVersion = Math.max(pageVersion, data.version);
    },
    reset: function () { showNotice(status.getAttribute("data-reload")); },
    comment: arrived,
    approved: arrived,
    edited: changed,
    deleted: changed,
    count: function (data) {
      pageVersion = Math.max(pageVersion, data.version);
      heading.innerHTML = inPageLanguage(data.heading_lang, data.heading);
    }
  });
})();
