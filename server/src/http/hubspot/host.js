// The widget's host inside a HubSpot card's modal: it stands in for the Freshworks client
// script, giving the widget the record the card was on and the backend it talks to directly
// (window.IDV_BACKEND) with the session the page's ticket was traded for.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="idv-host"]');
  var host = meta ? JSON.parse(meta.getAttribute("content") || "{}") : {};
  var entity = host.entity === "deal" ? "deal" : "contact";
  var id = Number(host.id || 0);
  var client = {
    data: {
      get: function (name) {
        if (name === "currentEntityInfo") {
          return Promise.resolve({ currentEntityInfo: { currentEntityId: id, currentEntityType: entity } });
        }
        if (name === "loggedInUser") {
          return Promise.resolve({ loggedInUser: { id: 0, email: "" } });
        }
        return Promise.reject({ status: 404, message: "no data named " + name });
      }
    },
    interface: {
      trigger: function () { return Promise.resolve({}); }
    },
    instance: {
      resize: function () { return Promise.resolve({}); },
      context: function () { return Promise.resolve({ location: entity + "_entity_menu" }); }
    },
    events: { on: function () {} }
  };
  window.app = { initialized: function () { return Promise.resolve(client); } };
  window.IDV_BACKEND = { base: window.location.origin, token: String(host.token || "") };
})();
