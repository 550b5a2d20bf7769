// Stand-in for the Freshworks client script ({{{appclient}}}) in the offline demo.
// It implements the methods the widget uses, reading the record from the page's query string.
// With `product=freshdesk` it behaves as a Freshdesk ticket sidebar: `currentEntityInfo` fails
// (as it does there by design), `contact` is the ticket's requester and `ticket` the ticket, and
// the widget talks to the demo's Freshdesk installation.
// There are no request templates here: outside Freshworks the widget talks to the backend
// directly (window.IDV_BACKEND), which is what the template proxy does inside the product.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var entity = params.get("entity") || "contact";
  var id = Number(params.get("id") || "0");
  var desk = params.get("product") === "freshdesk";
  var deskData = {
    contact: { id: Number(params.get("contact") || "0") },
    ticket: { id: Number(params.get("ticket") || "0") }
  };
  var client = {
    data: {
      get: function (name) {
        if (desk) {
          if (name === "currentEntityInfo") {
            return Promise.reject({ status: 400, message: "currentEntityInfo is not available on Freshdesk pages" });
          }
          if (name === "loggedInUser") {
            return Promise.resolve({ loggedInUser: { id: 9, contact: { name: "Demo Agent", email: "agent@demo.example" }, email: "agent@demo.example" } });
          }
          if (deskData[name] && deskData[name].id > 0) {
            var out = {};
            out[name] = deskData[name];
            return Promise.resolve(out);
          }
          return Promise.reject({ status: 404, message: "no data named " + name });
        }
        if (name === "currentEntityInfo") {
          return Promise.resolve({ currentEntityInfo: { currentEntityId: id, currentEntityType: entity } });
        }
        if (name === "loggedInUser") {
          // The rep's language: the demo page's `?locale=` stands for the user's profile.
          var language = null;
          try {
            language = new URLSearchParams(window.parent.location.search).get("locale");
          } catch (e) {
            language = null;
          }
          var user = { id: 7, display_name: "Demo Rep", email: "rep@demo.example" };
          if (language) {
            user.language = language;
          }
          return Promise.resolve({ loggedInUser: user });
        }
        return Promise.reject({ status: 404, message: "no data named " + name });
      }
    },
    interface: {
      trigger: function (action, options) {
        if (window.parent && window.parent !== window) {
          window.parent.postMessage({ type: "idv-demo-interface", action: action, options: options }, window.location.origin);
        }
        return Promise.resolve({});
      }
    },
    instance: {
      resize: function () { return Promise.resolve({}); },
      context: function () { return Promise.resolve({ location: desk ? "ticket_sidebar" : entity + "_entity_menu" }); }
    },
    events: { on: function () {} }
  };
  window.app = { initialized: function () { return Promise.resolve(client); } };
  window.IDV_BACKEND = { base: window.location.origin, token: desk ? "__DESK_TOKEN__" : "__TOKEN__" };
})();
