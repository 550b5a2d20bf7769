// The demo pages: show the widget's toasts (client.interface.trigger("showNotify")).
  window.addEventListener("message", function (e) {
    if (e.origin !== window.location.origin || !e.data || e.data.type !== "idv-demo-interface") return;
    if (e.data.action !== "showNotify") return;
    var t = document.getElementById("toast");
    t.textContent = (e.data.options.title ? e.data.options.title + ": " : "") + (e.data.options.message || "");
    t.style.display = "block";
    setTimeout(function () { t.style.display = "none"; }, 4000);
  });
