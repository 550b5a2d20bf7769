/**
 * Arabic (ar, ar-SA, ar-EG…), Modern Standard Arabic. Written right to left: the translator wraps
 * each text in RLI … PDI and each value and product term in FSI … PDI (see index.ts), so these
 * strings hold no direction marks of their own.
 */
import type { Catalogue } from "./types.ts";

export const ar: Catalogue = {
  "card.loading": "جارٍ تحميل حالة التحقق من الهوية…",
  "card.emptyContact": "لم يُجرَ أي تحقق من هوية جهة الاتصال هذه بعد.",
  "card.retry": "إعادة المحاولة",
  "card.loadFailed": "تعذّر تحميل حالة التحقق من الهوية",

  "status.not_verified": "لم يتم التحقق",
  "status.pending": "قيد الانتظار",
  "status.verified": "تم التحقق",
  "status.failed": "فشل التحقق",
  "status.expired": "انتهى الرابط دون استخدام",
  "status.lapsed": "انتهت صلاحية التحقق",

  "fact.assurance": "مستوى الضمان",
  "fact.assuranceValue": "{level} (NIST {revision})",
  "fact.document": "المستند",
  "fact.nameOnId": "الاسم في الهوية",
  "fact.match": "درجة التطابق",
  "fact.verified": "تاريخ التحقق",
  "fact.validUntil": "صالح حتى",
  "fact.liveid": "LiveID",
  "fact.liveidEnrolled": "مسجَّل",
  "fact.liveidNotEnrolled": "غير مسجَّل",
  "fact.lastStepUp": "آخر مصادقة معزَّزة",
  "fact.never": "لا يوجد",

  "document.drivers_license": "رخصة القيادة",
  "document.passport": "جواز السفر",
  "document.national_id": "بطاقة الهوية الوطنية",

  "match.match": "يطابق جهة الاتصال",
  "match.partial": "يطابق جزئيًا",
  "match.mismatch": "لا يطابق جهة الاتصال",

  "delivery.show": "عرض الرابط هنا",
  "delivery.email": "إرساله إلى جهة الاتصال بالبريد الإلكتروني",
  "delivery.sms": "إرساله إلى جهة الاتصال برسالة نصية (SMS)",

  "ial.IAL2": "IAL2: مستند وصورة سيلفي",
  "ial.IAL1": "IAL1: أساسي",

  "pending.title": "في انتظار جهة الاتصال",
  "pending.email": "أُرسل الرابط إلى جهة الاتصال بالبريد الإلكتروني.",
  "pending.sms": "أُرسل الرابط إلى جهة الاتصال برسالة نصية.",
  "pending.show": "أعطِ جهة الاتصال هذا الرابط.",
  "pending.until": "يعمل الرابط حتى {date}.",
  "pending.copy": "نسخ الرابط",
  "pending.deliveryFailed": "تعذّر إرسال الرابط: {reason}",

  "failed.title": "فشل آخر تحقق",
  "failed.noReason": "لم يذكر مزوّد الهوية سببًا.",
  "expired.title": "انتهى آخر رابط دون استخدام",
  "expired.body": "لم تفتحه جهة الاتصال في الوقت المحدد. أعد إرساله بنقرة واحدة.",
  "lapsed.title": "انتهت صلاحية التحقق",
  "lapsed.body": "انتهت مدته أو تغيّرت بيانات جهة الاتصال. تحقّق من جهة الاتصال مرة أخرى.",

  "action.verify": "التحقق من الهوية",
  "action.verifyAgain": "التحقق مجددًا",
  "action.stepUp": "مصادقة معزَّزة",
  "action.resend": "إعادة إرسال الرابط",
  "action.details": "فتح التفاصيل",
  "action.send": "إنشاء الرابط",
  "action.cancel": "إلغاء",

  "form.ial": "مستوى الضمان",
  "form.delivery": "طريقة إرسال الرابط",

  "done.verify": "تم إنشاء رابط التحقق.",
  "done.stepUp": "بدأت المصادقة المعزَّزة: تؤكد جهة الاتصال هويتها عبر LiveID.",
  "done.resend": "أُعيد إرسال الرابط.",
  "done.title": "تم",
  "error.title": "لم تنجح العملية",

  "modal.contactTitle": "التحقق من الهوية",
  "modal.dealTitle": "التحقق من الهوية لهذه الصفقة",

  "setup.title": "يحتاج أحد المسؤولين إلى إكمال إعداد التحقق من الهوية",
  "setup.gap": "{label}: {problem}",

  "deal.gate": "شرط المرحلة",
  "deal.stage": "المرحلة",
  "deal.noStage": "بلا مرحلة",
  "deal.gated": "تتطلب جهة اتصال تم التحقق منها",
  "deal.notGated": "لا تتطلب هذه المرحلة تحققًا",
  "deal.satisfied": "مستوفى",
  "deal.notSatisfied": "غير مستوفى",
  "deal.gatedStages": {
    zero: "المراحل المشروطة",
    one: "المرحلة المشروطة",
    two: "المرحلتان المشروطتان",
    few: "المراحل المشروطة",
    many: "المراحل المشروطة",
    other: "المراحل المشروطة",
  },
  "deal.none": "لا يوجد",
  "deal.primaryContact": "جهة الاتصال الرئيسية",
  "deal.noContact": "لا توجد جهة اتصال رئيسية لهذه الصفقة، لذا لا يمكن التحقق من أحد.",
  "deal.lastStepUp": "آخر مصادقة معزَّزة لهذه الصفقة",
  "deal.stepUpValue": "{state} · {date}",
  "deal.blocked": "لنقل هذه الصفقة إلى هذه المرحلة، يجب التحقق من جهة الاتصال الرئيسية أولًا.",

  "session.pending": "قيد التنفيذ",
  "session.verified": "ناجحة",
  "session.failed": "فاشلة",
  "session.expired": "انتهت دون استخدام",
  "session.canceled": "ملغاة",
  "session.lapsed": "منتهية الصلاحية",

  "error.network": "تعذّر الوصول إلى خدمة الهوية. حاول مرة أخرى بعد قليل.",
  "error.http": "ردّت خدمة الهوية بخطأ ({status}). حاول مرة أخرى بعد قليل.",
  "error.unreadable": "أرسلت خدمة الهوية ردًا لا تستطيع البطاقة قراءته.",
};
