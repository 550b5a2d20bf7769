/** Japanese (ja, ja-JP), polite form; full-width punctuation around Latin terms. */
import type { Catalogue } from "./types.ts";

export const ja: Catalogue = {
  "card.loading": "本人確認の状況を読み込んでいます…",
  "card.emptyContact": "この連絡先はまだ本人確認を行っていません。",
  "card.retry": "再試行",
  "card.loadFailed": "本人確認の状況を読み込めませんでした",

  "status.not_verified": "未確認",
  "status.pending": "確認待ち",
  "status.verified": "確認済み",
  "status.failed": "失敗",
  "status.expired": "リンク未使用で期限切れ",
  "status.lapsed": "確認の有効期限切れ",

  "fact.assurance": "保証レベル",
  "fact.assuranceValue": "{level}（NIST {revision}）",
  "fact.document": "本人確認書類",
  "fact.nameOnId": "書類上の氏名",
  "fact.match": "一致度",
  "fact.verified": "確認日",
  "fact.validUntil": "有効期限",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "登録済み",
  "fact.liveidNotEnrolled": "未登録",
  "fact.lastStepUp": "前回のステップアップ認証",
  "fact.never": "なし",

  "document.drivers_license": "運転免許証",
  "document.passport": "パスポート",
  "document.national_id": "身分証明書",

  "match.match": "連絡先と一致",
  "match.partial": "一部一致",
  "match.mismatch": "連絡先と不一致",

  "delivery.show": "ここにリンクを表示",
  "delivery.email": "連絡先にメールで送信",
  "delivery.sms": "連絡先にSMSで送信",

  "ial.IAL2": "IAL2：書類と自撮り写真",
  "ial.IAL1": "IAL1：基本",

  "pending.title": "連絡先の対応待ち",
  "pending.email": "リンクを連絡先にメールで送信しました。",
  "pending.sms": "リンクを連絡先にSMSで送信しました。",
  "pending.show": "このリンクを連絡先に伝えてください。",
  "pending.until": "リンクの有効期限は{date}です。",
  "pending.copy": "リンクをコピー",
  "pending.deliveryFailed": "リンクを送信できませんでした：{reason}",

  "failed.title": "前回の本人確認は失敗しました",
  "failed.noReason": "本人確認プロバイダーから理由は示されていません。",
  "expired.title": "前回のリンクは使われないまま期限切れになりました",
  "expired.body": "連絡先が期限内に開きませんでした。ワンクリックで再送できます。",
  "lapsed.title": "本人確認の有効期限が切れました",
  "lapsed.body": "期限が切れたか、連絡先の情報が変わりました。もう一度本人確認してください。",

  "action.verify": "本人確認を開始",
  "action.verifyAgain": "もう一度確認",
  "action.stepUp": "ステップアップ認証",
  "action.resend": "リンクを再送",
  "action.details": "詳細を開く",
  "action.send": "リンクを作成",
  "action.cancel": "キャンセル",

  "form.ial": "保証レベル",
  "form.delivery": "リンクの送信方法",

  "done.verify": "確認リンクを作成しました。",
  "done.stepUp": "ステップアップ認証を開始しました。連絡先がLiveIDで確認します。",
  "done.resend": "リンクを再送しました。",
  "done.title": "完了",
  "error.title": "うまくいきませんでした",

  "modal.contactTitle": "本人確認",
  "modal.dealTitle": "この取引の本人確認",

  "setup.title": "管理者が本人確認の設定を完了する必要があります",
  "setup.gap": "{label}：{problem}",

  "deal.gate": "ステージの条件",
  "deal.stage": "ステージ",
  "deal.noStage": "ステージなし",
  "deal.gated": "確認済みの連絡先が必要",
  "deal.notGated": "このステージでは本人確認は不要です",
  "deal.satisfied": "条件を満たしています",
  "deal.notSatisfied": "条件を満たしていません",
  "deal.gatedStages": { other: "条件付きのステージ" },
  "deal.none": "なし",
  "deal.primaryContact": "主な連絡先",
  "deal.noContact": "この取引には主な連絡先がないため、本人確認できる相手がいません。",
  "deal.lastStepUp": "この取引での前回のステップアップ認証",
  "deal.stepUpValue": "{state}・{date}",
  "deal.blocked": "この取引をこのステージに進めるには、先に主な連絡先の本人確認が必要です。",

  "session.pending": "進行中",
  "session.verified": "成功",
  "session.failed": "失敗",
  "session.expired": "未使用で期限切れ",
  "session.canceled": "キャンセル済み",
  "session.lapsed": "期限切れ",

  "error.network": "本人確認サービスに接続できませんでした。しばらくしてから再試行してください。",
  "error.http": "本人確認サービスからエラーが返されました（{status}）。しばらくしてから再試行してください。",
  "error.unreadable": "本人確認サービスから、カードで読み取れない応答が届きました。",
};
