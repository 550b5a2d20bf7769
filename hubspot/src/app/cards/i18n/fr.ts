/** French (fr, fr-CA…), "vous"; a narrow no-break space before ":" as French typesetting wants. */
import type { Catalogue } from "./types.ts";

export const fr: Catalogue = {
  "card.loading": "Chargement du statut d'identité…",
  "card.emptyContact": "Aucune vérification d'identité pour ce contact pour l'instant.",
  "card.retry": "Réessayer",
  "card.loadFailed": "Impossible de charger le statut d'identité",

  "status.not_verified": "Non vérifié",
  "status.pending": "En attente",
  "status.verified": "Vérifié",
  "status.failed": "Échec",
  "status.expired": "Lien expiré sans être utilisé",
  "status.lapsed": "Vérification périmée",

  "fact.assurance": "Niveau de garantie",
  "fact.assuranceValue": "{level} (NIST {revision})",
  "fact.document": "Document",
  "fact.nameOnId": "Nom sur la pièce",
  "fact.match": "Indice de correspondance",
  "fact.verified": "Vérifié le",
  "fact.validUntil": "Valable jusqu'au",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "Inscrit",
  "fact.liveidNotEnrolled": "Non inscrit",
  "fact.lastStepUp": "Dernière authentification renforcée",
  "fact.never": "Jamais",

  "document.drivers_license": "Permis de conduire",
  "document.passport": "Passeport",
  "document.national_id": "Carte d'identité",

  "match.match": "Correspond au contact",
  "match.partial": "Correspond en partie",
  "match.mismatch": "Ne correspond pas au contact",

  "delivery.show": "Afficher le lien ici",
  "delivery.email": "L'envoyer au contact par e-mail",
  "delivery.sms": "L'envoyer au contact par SMS",

  "ial.IAL2": "IAL2\u202f: pièce d'identité et selfie",
  "ial.IAL1": "IAL1\u202f: niveau de base",

  "pending.title": "En attente du contact",
  "pending.email": "Le lien a été envoyé au contact par e-mail.",
  "pending.sms": "Le lien a été envoyé au contact par SMS.",
  "pending.show": "Transmettez ce lien au contact.",
  "pending.until": "Le lien est valable jusqu'au {date}.",
  "pending.copy": "Copier le lien",
  "pending.deliveryFailed": "Le lien n'a pas pu être envoyé\u202f: {reason}",

  "failed.title": "La dernière vérification a échoué",
  "failed.noReason": "Le fournisseur d'identité n'a donné aucune raison.",
  "expired.title": "Le dernier lien a expiré sans être utilisé",
  "expired.body": "Le contact ne l'a pas ouvert à temps. Renvoyez-le en un clic.",
  "lapsed.title": "La vérification est périmée",
  "lapsed.body": "Elle a expiré ou les coordonnées du contact ont changé. Vérifiez à nouveau le contact.",

  "action.verify": "Vérifier l'identité",
  "action.verifyAgain": "Vérifier à nouveau",
  "action.stepUp": "Authentification renforcée",
  "action.resend": "Renvoyer le lien",
  "action.details": "Voir les détails",
  "action.send": "Créer le lien",
  "action.cancel": "Annuler",

  "form.ial": "Niveau de garantie",
  "form.delivery": "Envoi du lien",

  "done.verify": "Lien de vérification créé.",
  "done.stepUp": "Authentification renforcée lancée\u202f: le contact confirme avec LiveID.",
  "done.resend": "Lien renvoyé.",
  "done.title": "C'est fait",
  "error.title": "Cela n'a pas fonctionné",

  "modal.contactTitle": "Vérification d'identité",
  "modal.dealTitle": "Vérification d'identité pour cette transaction",

  "setup.title": "Un administrateur doit terminer la configuration de la vérification d'identité",
  "setup.gap": "{label}\u202f: {problem}",

  "deal.gate": "Contrôle d'étape",
  "deal.stage": "Étape",
  "deal.noStage": "Aucune étape",
  "deal.gated": "Exige un contact vérifié",
  "deal.notGated": "Cette étape n'exige aucune vérification",
  "deal.satisfied": "Rempli",
  "deal.notSatisfied": "Non rempli",
  "deal.gatedStages": { one: "Étape contrôlée", many: "Étapes contrôlées", other: "Étapes contrôlées" },
  "deal.none": "Aucune",
  "deal.primaryContact": "Contact principal",
  "deal.noContact": "Cette transaction n'a pas de contact principal\u202f: personne ne peut être vérifié.",
  "deal.lastStepUp": "Dernière authentification renforcée sur cette transaction",
  "deal.stepUpValue": "{state} · {date}",
  "deal.blocked": "Pour passer cette transaction à cette étape, le contact principal doit d'abord être vérifié.",

  "session.pending": "En cours",
  "session.verified": "Réussie",
  "session.failed": "Échouée",
  "session.expired": "Expirée sans utilisation",
  "session.canceled": "Annulée",
  "session.lapsed": "Périmée",

  "error.network": "Le service d'identité est injoignable. Réessayez dans un instant.",
  "error.http": "Le service d'identité a répondu par une erreur ({status}). Réessayez dans un instant.",
  "error.unreadable": "Le service d'identité a envoyé une réponse que la carte ne sait pas lire.",
};
