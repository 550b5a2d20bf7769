/** Brazilian Portuguese (pt-BR); also the catalogue of every other Portuguese (see locale.ts). */
import type { Catalogue } from "./types.ts";

export const ptBR: Catalogue = {
  "card.loading": "Carregando o status de identidade…",
  "card.emptyContact": "Este contato ainda não tem verificação de identidade.",
  "card.retry": "Tentar novamente",
  "card.loadFailed": "Não foi possível carregar o status de identidade",

  "status.not_verified": "Não verificado",
  "status.pending": "Pendente",
  "status.verified": "Verificado",
  "status.failed": "Falhou",
  "status.expired": "Link expirou sem uso",
  "status.lapsed": "Verificação vencida",

  "fact.assurance": "Nível de garantia",
  "fact.assuranceValue": "{level} (NIST {revision})",
  "fact.document": "Documento",
  "fact.nameOnId": "Nome no documento",
  "fact.match": "Grau de correspondência",
  "fact.verified": "Verificado em",
  "fact.validUntil": "Válido até",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "Cadastrado",
  "fact.liveidNotEnrolled": "Não cadastrado",
  "fact.lastStepUp": "Última autenticação reforçada",
  "fact.never": "Nunca",

  "document.drivers_license": "Carteira de motorista",
  "document.passport": "Passaporte",
  "document.national_id": "Documento de identidade",

  "match.match": "Corresponde ao contato",
  "match.partial": "Corresponde em parte",
  "match.mismatch": "Não corresponde ao contato",

  "delivery.show": "Mostrar o link aqui",
  "delivery.email": "Enviar ao contato por e-mail",
  "delivery.sms": "Enviar ao contato por SMS",

  "ial.IAL2": "IAL2: documento e selfie",
  "ial.IAL1": "IAL1: básico",

  "pending.title": "Aguardando o contato",
  "pending.email": "O link foi enviado ao contato por e-mail.",
  "pending.sms": "O link foi enviado ao contato por SMS.",
  "pending.show": "Passe este link para o contato.",
  "pending.until": "O link vale até {date}.",
  "pending.copy": "Copiar link",
  "pending.deliveryFailed": "Não foi possível enviar o link: {reason}",

  "failed.title": "A última verificação falhou",
  "failed.noReason": "O provedor de identidade não informou o motivo.",
  "expired.title": "O último link expirou sem ser usado",
  "expired.body": "O contato não o abriu a tempo. Reenvie com um clique.",
  "lapsed.title": "A verificação venceu",
  "lapsed.body": "Ela expirou ou os dados do contato mudaram. Verifique o contato de novo.",

  "action.verify": "Verificar identidade",
  "action.verifyAgain": "Verificar de novo",
  "action.stepUp": "Autenticação reforçada",
  "action.resend": "Reenviar link",
  "action.details": "Ver detalhes",
  "action.send": "Criar link",
  "action.cancel": "Cancelar",

  "form.ial": "Nível de garantia",
  "form.delivery": "Como enviar o link",

  "done.verify": "Link de verificação criado.",
  "done.stepUp": "Autenticação reforçada iniciada: o contato confirma com o LiveID.",
  "done.resend": "Link reenviado.",
  "done.title": "Pronto",
  "error.title": "Não deu certo",

  "modal.contactTitle": "Verificação de identidade",
  "modal.dealTitle": "Verificação de identidade deste negócio",

  "setup.title": "Um administrador precisa concluir a configuração da verificação de identidade",
  "setup.gap": "{label}: {problem}",

  "deal.gate": "Bloqueio de etapa",
  "deal.stage": "Etapa",
  "deal.noStage": "Sem etapa",
  "deal.gated": "Exige um contato verificado",
  "deal.notGated": "Esta etapa não exige verificação",
  "deal.satisfied": "Atendido",
  "deal.notSatisfied": "Não atendido",
  "deal.gatedStages": { one: "Etapa com bloqueio", many: "Etapas com bloqueio", other: "Etapas com bloqueio" },
  "deal.none": "Nenhuma",
  "deal.primaryContact": "Contato principal",
  "deal.noContact": "Este negócio não tem contato principal, então não há ninguém para verificar.",
  "deal.lastStepUp": "Última autenticação reforçada neste negócio",
  "deal.stepUpValue": "{state} · {date}",
  "deal.blocked": "Para mover este negócio para esta etapa, é preciso verificar antes o contato principal.",

  "session.pending": "Em andamento",
  "session.verified": "Aprovada",
  "session.failed": "Falhou",
  "session.expired": "Expirou sem uso",
  "session.canceled": "Cancelada",
  "session.lapsed": "Vencida",

  "error.network": "Não foi possível acessar o serviço de identidade. Tente de novo em instantes.",
  "error.http": "O serviço de identidade respondeu com um erro ({status}). Tente de novo em instantes.",
  "error.unreadable": "O serviço de identidade enviou uma resposta que o cartão não consegue ler.",
};
