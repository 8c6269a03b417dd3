// Safeguard UI: small progressive enhancements. Every page works without this script except the
// hold-to-peek control; media stays blurred and greyscale until a person deliberately reveals it.
(function () {
  "use strict";

  function applyBlurSetting() {
    var px = document.body.getAttribute("data-blur");
    if (px && /^\d+$/.test(px)) document.body.style.setProperty("--blur", px + "px");
  }

  function confirmForms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  }

  function setLevel(item, level) {
    item.classList.remove("partial", "revealed");
    if (level) item.classList.add(level);
    var state = item.querySelector("[data-state]");
    if (state) state.textContent = level === "revealed" ? "revealed" : level === "partial" ? "partly revealed" : "blurred";
    item.querySelectorAll("[data-reveal]").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.getAttribute("data-reveal") === level));
    });
  }

  function mediaControls() {
    document.querySelectorAll(".media-item").forEach(function (item) {
      item.querySelectorAll("[data-reveal]").forEach(function (button) {
        button.hidden = false;
        button.addEventListener("click", function () {
          var level = button.getAttribute("data-reveal");
          setLevel(item, item.classList.contains(level) ? "" : level);
        });
      });
      var hold = item.querySelector("[data-hold]");
      if (!hold) return;
      hold.hidden = false;
      var before = null;
      var on = function (event) {
        event.preventDefault();
        if (before !== null) return;
        before = item.classList.contains("revealed") ? "revealed" : item.classList.contains("partial") ? "partial" : "";
        item.classList.add("revealed");
      };
      var off = function () { if (before !== null) { setLevel(item, before); before = null; } };
      hold.addEventListener("pointerdown", on);
      hold.addEventListener("pointerup", off);
      hold.addEventListener("pointerleave", off);
      hold.addEventListener("keydown", function (event) { if (event.key === " " || event.key === "Enter") on(event); });
      hold.addEventListener("keyup", off);
      hold.addEventListener("blur", off);
    });
    // Leaving the window blurs everything again, so nothing stays on screen unattended.
    window.addEventListener("blur", function () {
      document.querySelectorAll(".media-item").forEach(function (item) { setLevel(item, ""); });
    });
  }

  function shortcuts() {
    var targets = {};
    document.querySelectorAll("[data-shortcut]").forEach(function (el) {
      targets[el.getAttribute("data-shortcut")] = el;
    });
    if (!Object.keys(targets).length) return;
    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey) return;
      var tag = (event.target.tagName || "").toLowerCase();
      var typing = tag === "textarea" || tag === "select" || event.target.isContentEditable ||
        (tag === "input" && event.target.type !== "radio" && event.target.type !== "checkbox");
      if (typing) return;
      var el = targets[event.key];
      if (!el) return;
      event.preventDefault();
      var kind = el.tagName.toLowerCase();
      if (kind === "textarea" || (kind === "input" && el.type === "text")) {
        el.focus();
      } else if (kind === "input" && (el.type === "radio" || el.type === "checkbox")) {
        el.click();
        el.focus();
      } else {
        el.click();
      }
    });
  }

  // Upload with a progress bar (bank imports); the server's answer replaces the page as a normal post would.
  function uploadProgress() {
    document.querySelectorAll("form[data-progress]").forEach(function (form) {
      var bar = document.getElementById(form.getAttribute("data-progress"));
      var text = document.getElementById(form.getAttribute("data-progress") + "-text");
      if (!bar || !window.XMLHttpRequest || !window.FormData) return;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        bar.hidden = false;
        xhr.upload.addEventListener("progress", function (e) {
          if (!e.lengthComputable) return;
          bar.value = Math.round((e.loaded / e.total) * 100);
          if (text) text.textContent = "Uploading: " + bar.value + "%";
        });
        xhr.upload.addEventListener("load", function () {
          if (text) text.textContent = "Uploaded. Importing and checking every line…";
        });
        xhr.addEventListener("load", function () {
          document.open();
          document.write(xhr.responseText);
          document.close();
        });
        xhr.addEventListener("error", function () {
          if (text) text.textContent = "The upload failed. Check the connection and try again.";
        });
        xhr.send(new FormData(form));
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    uploadProgress();
    applyBlurSetting();
    confirmForms();
    mediaControls();
    shortcuts();
  });
})();
