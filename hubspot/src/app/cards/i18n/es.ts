/** Spanish (es, es-419, es-MX…): neutral Latin American and European Spanish, "tú". */
import type { Catalogue } from "./types.ts";

export const es: Catalogue = {
  "card.loading": "Cargando el estado de identidad…",
  "card.emptyContact": "Este contacto aún no tiene ninguna verificación de identidad.",
  "card.retry": "Reintentar",
  "card.loadFailed": "No se pudo cargar el estado de identidad",

  "status.not_verified": "No verificado",
  "status.pending": "Pendiente",
  "status.verified": "Verificado",
  "status.failed": "Fallido",
  "status.expired": "Enlace vencido sin usar",
  "status.lapsed": "Verificación caducada",

  "fact.assurance": "Nivel de garantía",
  "fact.assuranceValue": "{level} (NIST {revision})",
  "fact.document": "Documento",
  "fact.nameOnId": "Nombre en el documento",
  "fact.match": "Coincidencia",
  "fact.verified": "Verificado el",
  "fact.validUntil": "Válido hasta",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "Inscrito",
  "fact.liveidNotEnrolled": "No inscrito",
  "fact.lastStepUp": "Última autenticación reforzada",
  "fact.never": "Nunca",

  "document.drivers_license": "Licencia de conducir",
  "document.passport": "Pasaporte",
  "document.national_id": "Documento nacional de identidad",

  "match.match": "Coincide con el contacto",
  "match.partial": "Coincide en parte",
  "match.mismatch": "No coincide con el contacto",

  "delivery.show": "Mostrar el enlace aquí",
  "delivery.email": "Enviarlo al contacto por correo",
  "delivery.sms": "Enviarlo al contacto por SMS",

  "ial.IAL2": "IAL2: documento y selfi",
  "ial.IAL1": "IAL1: básico",

  "pending.title": "Esperando al contacto",
  "pending.email": "El enlace se envió al contacto por correo.",
  "pending.sms": "El enlace se envió al contacto por SMS.",
  "pending.show": "Comparte este enlace con el contacto.",
  "pending.until": "El enlace vale hasta el {date}.",
  "pending.copy": "Copiar enlace",
  "pending.deliveryFailed": "No se pudo enviar el enlace: {reason}",

  "failed.title": "La última verificación falló",
  "failed.noReason": "El proveedor de identidad no indicó el motivo.",
  "expired.title": "El último enlace venció sin usarse",
  "expired.body": "El contacto no lo abrió a tiempo. Reenvíalo con un clic.",
  "lapsed.title": "La verificación caducó",
  "lapsed.body": "Venció o cambiaron los datos del contacto. Vuelve a verificar al contacto.",

  "action.verify": "Verificar identidad",
  "action.verifyAgain": "Verificar de nuevo",
  "action.stepUp": "Autenticación reforzada",
  "action.resend": "Reenviar enlace",
  "action.details": "Ver detalles",
  "action.send": "Crear enlace",
  "action.cancel": "Cancelar",

  "form.ial": "Nivel de garantía",
  "form.delivery": "Cómo enviar el enlace",

  "done.verify": "Enlace de verificación creado.",
  "done.stepUp": "Autenticación reforzada iniciada: el contacto confirma con LiveID.",
  "done.resend": "Enlace reenviado.",
  "done.title": "Listo",
  "error.title": "No funcionó",

  "modal.contactTitle": "Verificación de identidad",
  "modal.dealTitle": "Verificación de identidad de este negocio",

  "setup.title": "Un administrador debe terminar de configurar la verificación de identidad",
  "setup.gap": "{label}: {problem}",

  "deal.gate": "Control de etapa",
  "deal.stage": "Etapa",
  "deal.noStage": "Sin etapa",
  "deal.gated": "Requiere un contacto verificado",
  "deal.notGated": "Esta etapa no requiere verificación",
  "deal.satisfied": "Cumplido",
  "deal.notSatisfied": "No cumplido",
  "deal.gatedStages": { one: "Etapa con control", many: "Etapas con control", other: "Etapas con control" },
  "deal.none": "Ninguna",
  "deal.primaryContact": "Contacto principal",
  "deal.noContact": "Este negocio no tiene contacto principal, así que no hay nadie a quien verificar.",
  "deal.lastStepUp": "Última autenticación reforzada en este negocio",
  "deal.stepUpValue": "{state} · {date}",
  "deal.blocked": "Para pasar este negocio a esta etapa, primero hay que verificar al contacto principal.",

  "session.pending": "En curso",
  "session.verified": "Superada",
  "session.failed": "Fallida",
  "session.expired": "Vencida sin usar",
  "session.canceled": "Cancelada",
  "session.lapsed": "Caducada",

  "error.network": "No se pudo conectar con el servicio de identidad. Vuelve a intentarlo en un momento.",
  "error.http": "El servicio de identidad respondió con un error ({status}). Vuelve a intentarlo en un momento.",
  "error.unreadable": "El servicio de identidad envió una respuesta que la tarjeta no puede leer.",
};
