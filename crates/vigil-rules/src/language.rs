//! The language check: wording in free text that blames or criminalises a
//! child who is being exploited, with why it harms and what to say instead.
//!
//! The inquiries found records that called abused children "promiscuous",
//! said they were "putting themselves at risk" or "in a relationship with"
//! the men abusing them, and called the abuse "consensual". Those words
//! decided what professionals did next. This check follows the professional
//! language guidance (DOMAIN.md section 9): each [`Guidance`] row is one line
//! of that table, and each rule below finds one way of writing it.
//!
//! How it decides, so the next engineer can extend it by principle rather
//! than by example:
//!
//! * **It is the writer's own wording that counts.** A phrase inside
//!   quotation marks, or in reported speech ("she said he is her
//!   boyfriend", "he is her boyfriend, she says", "according to mum"), is
//!   someone else's words and is not flagged: recording what a child said is
//!   good practice.
//! * **A negated phrase is not flagged** ("she cannot consent", "he is not
//!   her boyfriend"): it does not say the thing the guidance warns against.
//! * **Some words harm only in context.** "Boyfriend" is fine for a
//!   15-year-old's classmate and harmful for the 24-year-old man abusing her,
//!   so relationship words are flagged only when the sentence (or the one
//!   before) speaks of an adult: a man, an older male, an age of 18 or more.
//!   "Consent" is fine in "mum gave consent for the referral" and harmful in
//!   "the sex was consensual", so it is flagged only about sex, never about
//!   consent to a process (sharing information, an assessment).
//! * **Under 13 the law is plain** (DOMAIN.md section 6: consent is
//!   irrelevant), so sexual wording about a child under 13 is flagged without
//!   needing an adult in the sentence. The child's age comes from the caller
//!   (the record) or, failing that, the youngest age under 18 the text states.
//!
//! It warns and never blocks: the caller shows the findings and saves the
//! text as written. Pure logic: no I/O; the patterns are compiled once.
//!
//! ```
//! use vigil_rules::language::{check, LanguageContext};
//!
//! let found = check("She is putting herself at risk by going to the park.", &LanguageContext::default());
//! assert_eq!(found.len(), 1);
//! assert_eq!(found[0].phrase, "putting herself at risk");
//! assert!(check("She said \"he is my boyfriend\"; he is 24.", &LanguageContext::default()).is_empty());
//! ```

use regex::Regex;
use serde::Serialize;
use std::sync::OnceLock;

/// One row of the language guidance (DOMAIN.md section 9): what to avoid,
/// why it harms, and what to say instead. The one place these words live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Guidance {
    /// "putting themselves at risk; risky behaviour; making poor choices".
    Blame,
    /// "sexual activity with (an adult); sexually active (under 13)".
    SexualActivity,
    /// "consensual, consented".
    Consent,
    /// "promiscuous; sexual partners (of a child)".
    Promiscuity,
    /// "boyfriend / girlfriend (of an adult abuser); in a relationship with; associating with".
    Relationship,
    /// "has been contacting adults".
    ContactingAdults,
    /// "sending explicit pictures to an adult".
    Images,
    /// "offered drugs for sex; exchanging sex for".
    Exchange,
    /// "child prostitute; prostitution".
    Prostitution,
    /// "involved in CSE".
    InvolvedIn,
}

impl Guidance {
    /// Every row, in the order of the guidance table.
    pub const ALL: &'static [Guidance] = &[
        Guidance::Blame,
        Guidance::SexualActivity,
        Guidance::Consent,
        Guidance::Promiscuity,
        Guidance::Relationship,
        Guidance::ContactingAdults,
        Guidance::Images,
        Guidance::Exchange,
        Guidance::Prostitution,
        Guidance::InvolvedIn,
    ];

    /// Why the wording harms, in a sentence a practitioner can read at 11pm.
    pub fn why(self) -> &'static str {
        match self {
            Guidance::Blame => "It puts the responsibility on the child. Children are groomed and exploited by adults; they do not choose to be abused.",
            Guidance::SexualActivity => "It describes abuse as if it were sex the child took part in. A child cannot consent to their own abuse.",
            Guidance::Consent => "A child cannot consent to their own abuse, and under 13 the law says consent is irrelevant.",
            Guidance::Promiscuity => "It blames the child and hides that adults sexually abused them.",
            Guidance::Relationship => "An adult who abuses a child is not their boyfriend or girlfriend or partner: the word hides grooming and control.",
            Guidance::ContactingAdults => "It makes the child the one acting. Adults contact and groom children.",
            Guidance::Images => "It makes the child responsible. Adults are using technology to abuse the child.",
            Guidance::Exchange => "A child cannot trade or sell sex: what is described is sexual exploitation.",
            Guidance::Prostitution => "There is no such thing as a child prostitute: the child is being sexually exploited.",
            Guidance::InvolvedIn => "A child is not 'involved in' their own abuse: they are its victim.",
        }
    }

    /// What to write instead.
    pub fn suggestion(self) -> &'static str {
        match self {
            Guidance::Blame => "may have been groomed; is at increased risk of exploitation; the place is dangerous to children",
            Guidance::SexualActivity => "has been sexually abused / raped; allegation of sexual abuse",
            Guidance::Consent => "describe what happened; the child cannot consent to abuse",
            Guidance::Promiscuity => "the child has been sexually abused by several adults",
            Guidance::Relationship => "is being groomed / exploited / controlled by",
            Guidance::ContactingAdults => "adults have been contacting the child",
            Guidance::Images => "adults are using technology to abuse the child",
            Guidance::Exchange => "is being sexually exploited",
            Guidance::Prostitution => "child sexual exploitation",
            Guidance::InvolvedIn => "is a victim of sexual exploitation",
        }
    }

    /// The wording the guidance warns against, as its table says it.
    pub fn avoid(self) -> &'static str {
        match self {
            Guidance::Blame => "putting themselves at risk; risky behaviour; making poor choices",
            Guidance::SexualActivity => "sexual activity with (an adult); sexually active (under 13)",
            Guidance::Consent => "consensual, consented",
            Guidance::Promiscuity => "promiscuous; sexual partners (of a child)",
            Guidance::Relationship => "boyfriend / girlfriend (of an adult abuser); in a relationship with; associating with",
            Guidance::ContactingAdults => "has been contacting adults",
            Guidance::Images => "sending explicit pictures to an adult",
            Guidance::Exchange => "offered drugs for sex; exchanging sex for",
            Guidance::Prostitution => "child prostitute; prostitution",
            Guidance::InvolvedIn => "involved in CSE",
        }
    }
}

/// What the checker knows about the child the text is about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LanguageContext {
    /// The child's age in years, from the record, when known.
    pub age: Option<u32>,
}

/// One phrase found: where it is (byte offsets into the text checked), the
/// words as written, and the guidance row it falls under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Byte offset of the phrase's first byte.
    pub start: usize,
    /// Byte offset just past the phrase.
    pub end: usize,
    /// The words as written.
    pub phrase: String,
    /// The guidance row it falls under.
    pub guidance: Guidance,
    /// Why it harms ([`Guidance::why`]).
    pub why: &'static str,
    /// What to write instead ([`Guidance::suggestion`]).
    pub suggestion: &'static str,
}

/// When a rule applies beyond its words matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    /// Always (the words harm whatever surrounds them).
    Always,
    /// When the sentence, or the one before, speaks of an adult; or the
    /// child is under 13.
    AboutAnAdult,
    /// When the sentence, or the one before, speaks of an adult; whatever
    /// the child's age.
    AboutAnAdultAnyAge,
    /// When the child is under 13, or their age is not known.
    Under13,
    /// When the sentence is about sex, not consent to a process.
    AboutSex,
}

struct Rule {
    guidance: Guidance,
    pattern: &'static str,
    when: When,
}

/// The rules, one way of writing one guidance row each. Patterns are
/// case-insensitive; `['’]` stands for either apostrophe.
const RULES: &[Rule] = &[
    // Blame: the child as the cause of the risk.
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:put|puts|putting|placing|places|placed|placed)\s+(?:herself|himself|themselves|themself|themselfs|yourself)\s+(?:at|in|into)\s+(?:risk|danger|harm['’]?s? way|harm|dangerous situations|risky situations|vulnerable situations)",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:risky|risk[- ]taking|reckless|high[- ]risk|dangerous)\s+behaviou?rs?\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:mak(?:e|es|ing)|made|takes?|taking|took)\s+(?:\w+\s+)?(?:poor|bad|unwise|wrong|risky|negative|irresponsible|unsafe|dangerous)\s+(?:life\s+|lifestyle\s+)?(?:choices?|decisions?)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:poor|bad|unwise|risky|unsafe)\s+(?:life\s+|lifestyle\s+)?choices\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\blifestyle\s+choices?\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:chooses|chose|chosen|choosing|choose|decided|decides|deciding)\s+to\s+(?:go\s+missing|stay\s+out|run\s+away|abscond|associate|spend\s+time\s+with\s+(?:older|adult|these|the)\s+(?:men|males|adults)|be\s+with\s+(?:him|them|older|adult|these|the)\s*(?:men|males|adults)?|return\s+to\s+(?:him|them|the\s+men|the\s+address))",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:mak(?:e|es|ing)|made)\s+(?:herself|himself|themselves)\s+(?:vulnerable|available)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bstreet[- ]?wise\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bknows?\s+(?:exactly\s+)?what\s+(?:she|he|they)(?:['’]s|\s+is|\s+are|\s+was|\s+were|['’]re)\s+doing\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\battention[- ]seeking\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:enjoy|enjoys|enjoyed|enjoying|likes?|liked|liking|loves?|loved|loving)\s+the\s+attention\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bwilling\s+participant\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:went|goes|go|going|gets|got|getting)\s+(?:\w+\s+)?willingly\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bwillingly\b",
        when: When::AboutAnAdultAnyAge,
    },
    // Sexual activity described as if the child took part in sex.
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\bsexual\s+(?:activity|relations|relationship|intercourse|contact|encounters?)\s+with\b",
        when: When::AboutAnAdult,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\b(?:has|had|having|have)\s+(?:had\s+)?(?:sex|sexual\s+intercourse|intercourse|oral\s+sex)\s+with\b",
        when: When::AboutAnAdult,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\b(?:slept|sleeping|sleeps)\s+with\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\bsexually\s+active\b",
        when: When::Under13,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\b(?:engag(?:ed|es|ing|e)|participat(?:ed|es|ing|e)|took\s+part|takes\s+part|taking\s+part)\s+in\s+(?:sexual\s+(?:activity|acts?|behaviou?r)|sex)\b",
        when: When::AboutAnAdult,
    },
    // Consent.
    Rule {
        guidance: Guidance::Consent,
        pattern: r"\bconsensual(?:ly)?\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Consent,
        pattern: r"\b(?:consented|consenting|consents|consent)\b",
        when: When::AboutSex,
    },
    Rule {
        guidance: Guidance::Consent,
        pattern: r"\bagreed\s+to\s+(?:have\s+)?(?:sex|sexual|oral\s+sex|intercourse|it)\b",
        when: When::AboutSex,
    },
    // Promiscuity.
    Rule {
        guidance: Guidance::Promiscuity,
        pattern: r"\bpromiscu(?:ous|ity)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Promiscuity,
        pattern: r"\b(?:sexual|multiple|several|many|numerous|different)\s+(?:sexual\s+)?partners\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Promiscuity,
        pattern: r"\bsexual\s+partner\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Promiscuity,
        pattern: r"\bsleeps?\s+around\b",
        when: When::Always,
    },
    // Relationship words for an adult abuser.
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:boy\s?friends?|girl\s?friends?|boyf|girlf|bf|gf)\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:her|his|their)\s+(?:older\s+|adult\s+|new\s+)?(?:partner|fella|fiance|fiancé|lover)\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:in|into|having|has|had|have|started|starting|begun|began|began)\s+(?:a\s+|an\s+)?(?:sexual\s+|intimate\s+|romantic\s+)?relationship\s+with\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:dating|seeing|going\s+out\s+with|goes\s+out\s+with|went\s+out\s+with)\s+(?:a|an|this|the|his|her|him|them|older|adult|\d)",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:associat(?:ing|es|ed|e)|hanging\s+(?:around|about|out)|hangs\s+(?:around|about|out)|hung\s+(?:around|about|out)|mixing|mixes|spending\s+time|spends\s+time|spent\s+time)\s+with\s+(?:\w+\s+){0,3}?(?:older|adult|adults|men|males|man|male|known\s+(?:offenders|adults|males|men|perpetrators))\b",
        when: When::Always,
    },
    // The child as the one contacting adults.
    Rule {
        guidance: Guidance::ContactingAdults,
        pattern: r"\b(?:contacting|contacted|contacts|contact|messaging|messaged|texting|texted|calling|chatting\s+(?:to|with)|talking\s+to|meeting(?:\s+up\s+with)?|met\s+up\s+with|seeking\s+out|approaching|befriending|befriended|targeting)\s+(?:(?:the|this|that|these|those|several|some|other|random)\s+)?(?:older\s+|adult\s+|unknown\s+|grown\s+)?(?:men|man|adults|adult|males|male|an\s+adult|a\s+man|older\s+males|strangers)\b",
        when: When::Always,
    },
    // Images.
    Rule {
        guidance: Guidance::Images,
        pattern: r"\b(?:send|sends|sending|sent|shar(?:e|es|ed|ing)|post(?:s|ed|ing)?|upload(?:s|ed|ing)?)\s+(?:(?:some|more|several|multiple|the|these|those|a\s+few|lots\s+of)\s+)?(?:explicit|indecent|nude|naked|sexual|sexualised|sexualized|inappropriate|intimate|topless|sexy)\s+(?:pictures|images|photos|photographs|selfies|videos|pics|content|messages)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Images,
        pattern: r"\b(?:send|sends|sending|sent|shar(?:e|es|ed|ing))\s+nudes\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Images,
        pattern: r"\bsexting\b",
        when: When::AboutAnAdultAnyAge,
    },
    // Exchange.
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:sex|sexual\s+(?:acts|favou?rs|activity)|oral\s+sex)\s+(?:for|in\s+exchange\s+for|in\s+return\s+for)\s+(?:\w+\s+)?(?:drugs|money|cash|alcohol|cigarettes|vapes|gifts|a\s+place|somewhere|food|lifts|credit|accommodation|clothes|a\s+phone|phones|protection|cannabis|weed)",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:drugs|money|cash|alcohol|cigarettes|vapes|gifts|cannabis|lifts|accommodation)\s+(?:for|in\s+exchange\s+for|in\s+return\s+for)\s+(?:sex|sexual)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:exchang(?:e|es|ed|ing)|trad(?:e|es|ed|ing)|swap(?:s|ped|ping)?|sell(?:s|ing)?|sold|offer(?:s|ed|ing)?)\s+(?:sex|sexual\s+(?:acts|favou?rs|services))\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:transactional|survival)\s+sex\b",
        when: When::Always,
    },
    // Prostitution.
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\bchild\s+prostitut(?:e|es|ion)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\bprostitut(?:e|es|ion|ing|ed)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\b(?:rent\s+boys?|sex\s+workers?|sex\s+work|on\s+the\s+game|escorting|working\s+girls?)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\bsell(?:s|ing)?\s+(?:herself|himself|themselves|her\s+body|his\s+body|their\s+body)\b",
        when: When::Always,
    },
    // Added after a blind test (session 9): more ways of writing the same rows.
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:risky|chaotic|high[- ]risk|dangerous|reckless|promiscuous)\s+lifestyle\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:risky|risk[- ]taking|reckless|high[- ]risk|dangerous|unsafe)\s+(?:online\s+|sexual\s+|social\s+)behaviou?rs?\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:her|his|their)\s+(?:own\s+)?(?:behaviou?r|actions|choices|lifestyle|conduct)\s+(?:puts|put|is\s+putting|places|is\s+placing|placed)\s+(?:her|him|them)\s+at\s+risk\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bputting\s+(?:herself|himself|themselves|themself)\s+(?:in|into)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:bring(?:s|ing)?|brought)\s+(?:this|it|that)\s+on\s+(?:herself|himself|themselves)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:asked|asking|asks)\s+for\s+it\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bknowingly\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\bknew\s+what\s+(?:would|was\s+going\s+to)\s+happen\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Blame,
        pattern: r"\b(?:chose|chooses|choosing|chosen|decided|decides|deciding)\s+to\s+(?:go|meet|stay|see|return|get\s+into|be|spend)\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\b(?:had|having|has|have|started\s+having|is\s+having)\s+(?:underage\s+|unprotected\s+)?sex\b",
        when: When::AboutAnAdult,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\bunderage\s+sex\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\b(?:the\s+)?sex\s+between\b",
        when: When::AboutAnAdult,
    },
    Rule {
        guidance: Guidance::SexualActivity,
        pattern: r"\b(?:hook(?:s|ed|ing)?\s+up|hooked\s+up)\s+with\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Promiscuity,
        pattern: r"\b(?:sleeping|slept)\s+around\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:her|his|their)\s+(?:[\w-]+\s+){1,2}(?:partner|boy\s?friend|girl\s?friend|fella|lover)\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:are|were|as)\s+partners\b",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Relationship,
        pattern: r"\b(?:her|his|their)\s+(?:sexual\s+|intimate\s+)?relationship\s+with\s+(?:an?\s+)?(?:adult|older|man|male|\d)",
        when: When::AboutAnAdultAnyAge,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:paid|pays|paying)\s+(?:her\s+|him\s+|them\s+)?for\s+sex\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:provid(?:es|ed|ing|e)|offer(?:s|ed|ing)?|sell(?:s|ing)?)\s+sexual\s+services\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:money|cash|gifts|credit|vapes|drugs|alcohol)\s+(?:in\s+return\s+for|in\s+exchange\s+for|for)\s+(?:pictures|photos|images|nudes|videos|pics)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Exchange,
        pattern: r"\b(?:goes|go|went|going)\s+with\s+(?:older\s+)?(?:men|adults|males)\s+for\s+(?:money|cash|drugs|gifts|alcohol)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\brent(?:s|ing|ed)?\s+(?:herself|himself|themselves)\s+out\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\b(?:works?|working|worked)\s+as\s+an\s+escort\b|\bescort\s+work\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::Prostitution,
        pattern: r"\bsolicit(?:s|ing|ed)?\s+(?:men|adults|males|clients|punters|customers)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::InvolvedIn,
        pattern: r"\b(?:actively|heavily|deeply|fully)\s+involved\b",
        when: When::AboutSex,
    },
    // Involved in.
    Rule {
        guidance: Guidance::InvolvedIn,
        pattern: r"\b(?:involved|involvement|engaged|engaging|participating|participates|taking\s+part|takes\s+part)\s+(?:in|with)\s+(?:cse|child\s+sexual\s+exploitation|sexual\s+exploitation|exploitation|the\s+sex\s+trade|sexual\s+exploitation)\b",
        when: When::Always,
    },
    Rule {
        guidance: Guidance::InvolvedIn,
        pattern: r"\bcse\s+(?:involvement|lifestyle|activity|activities)\b",
        when: When::Always,
    },
];

struct Compiled {
    rules: Vec<(Regex, &'static Rule)>,
    adult: Regex,
    age: Regex,
    sexual: Regex,
    process_consent: Regex,
    negation: Regex,
    reporting_before: Regex,
    reporting_after: Regex,
    not_quoting: Regex,
    third_party_relationship: Regex,
    peer: Regex,
    prostitution_of_adults: Regex,
    adult_subject: Regex,
    statute: Regex,
    to_the_child: Regex,
    not_about_the_child: Regex,
    child_subject: Regex,
}

fn compiled() -> &'static Compiled {
    static C: OnceLock<Compiled> = OnceLock::new();
    C.get_or_init(|| {
        let re = |p: &str| Regex::new(&format!("(?i){p}")).expect("language pattern");
        Compiled {
            rules: RULES.iter().map(|r| (re(r.pattern), r)).collect(),
            // An adult in the sentence: a man, an older male, an age of 18+.
            adult: re(r"\b(?:man|men|adult|adults|male|males|older|grown|guy|guys|bloke|blokes|(?:1[89]|[2-9]\d)\s?(?:-\s?)?(?:years?|yrs?|yo)\b|aged\s+(?:1[89]|[2-9]\d)\b|age\s+(?:1[89]|[2-9]\d)\b|in\s+(?:his|her|their)\s+(?:20s|30s|40s|50s|60s|twenties|thirties|forties|fifties|sixties)|(?:1[89]|[2-9]\d)\)|,\s*(?:1[89]|[2-9]\d)\s*,|who\s+is\s+(?:1[89]|[2-9]\d)\b|is\s+(?:1[89]|[2-9]\d)\b)"),
            age: re(r"\b(\d{1,2})\s?(?:-\s?)?(?:years?|yrs?|yo)\b|\baged?\s+(\d{1,2})\b|\b(?:she|he|they)\s+(?:is|was|are)\s+(\d{1,2})\b"),
            sexual: re(r"\b(?:sex|sexual|sexually|intercourse|penetrat\w*|rape|raped|touching|touched|kissing|kissed|oral|intimate|relationship|boyfriend|girlfriend|abuse|abused|cse|exploitation|exploited|it\s+was\s+consensual)\b"),
            // Consent to a process, not to sex.
            process_consent: re(r"\b(?:consent(?:s|ed|ing)?\s+(?:form|to\s+(?:share|sharing|the\s+referral|a\s+referral|information|an?\s+(?:assessment|interview|examination|medical|referral)|the\s+(?:assessment|interview|examination|medical|plan|strategy)|being\s+(?:interviewed|examined|referred|photographed)|treatment|contact|police|us|this|services?)|for\s+\w+)|(?:parental|informed|written|verbal|mum['’]s|mother['’]s|dad['’]s|father['’]s|parents['’]?|carer['’]s)\s+consent|(?:information|data)[- ]sharing|age\s+of\s+consent)"),
            negation: re(r"\b(?:not|never|no|cannot|can['’]t|couldn['’]t|could\s+not|unable|incapable|isn['’]t|wasn['’]t|aren['’]t|weren['’]t|doesn['’]t|didn['’]t|don['’]t|won['’]t|nor|without|non)\b[^.;!?]{0,25}$"),
            // Reported speech before the phrase: someone said, told, describes...
            reporting_before: re(r#"(?:\b(?:said|says|say|saying|told|tells|tell|telling|stated|states|state|explained|explains|disclosed|discloses|claimed|claims|claim|insisted|insists|maintains|maintained|believes|believed|believing|believe|thinks|thinking|thought|feels|felt|convinced|wrote|writes|texted|alleges|alleged|describes|described|describing|calls|called|calling|refers\s+to|referred\s+to|refer\s+to|considers|considered|sees|saw|views|viewed|reports|reported|reporting)\b[\s,:]+(?:that\b|to\b|him\b|her\b|them\b|it\b|he\b|she\b|they\b|this\b|the\b|a\b|an\b|["“‘']|(?:[\w'’-]+\s+){1,3}(?:that|is|was|as|she|he|has|had|are|were)\b|staff|police|workers?|mum|dad|school)|\baccording\s+to\b|\bin\s+(?:her|his|their)\s+(?:own\s+)?words\b|\bso[- ]called\b|\bwhat\s+(?:she|he|they)\s+(?:calls?|called|describes?|described|refers?\s+to)\b|\bwho\s+(?:she|he|they)\s+(?:calls?|called|describes?|described|refers?\s+to|says|said|considers)\b|\b(?:her|his|their)\s+(?:view|account|words|description)\s+(?:is|was)\b)"#),
            // Reported speech after the phrase: ", she said".
            reporting_after: re(r#"^[^.;!?]{0,60}?[,—–-]\s*(?:\w+\s+){0,2}(?:said|says|told|tells|stated|states|explained|claims|claimed|insisted|insists|reported|wrote|texted)\b"#),
            // A verb of saying that is not reported speech here.
            not_quoting: re(r"\b(?:reported|reports|reporting)\s+(?:missing|as\s+missing|to)\b|\b(?:was|were|is|are|been|being)\s+(?:reported|described|called|seen|viewed|considered|thought)\b"),
            // Someone else's boyfriend or girlfriend: mum's boyfriend.
            third_party_relationship: re(r"\b(?:mum|mother|mom|dad|father|sister|brother|aunt|auntie|uncle|cousin|nan|gran|grandmother|carer|foster\s+carer)['’]?s?\s+(?:new\s+|older\s+)?(?:boy\s?friend|girl\s?friend|partner|relationship)"),
            // A peer: someone the child's own age.
            peer: re(r"\b(?:(?:her|his|their)\s+own\s+age|same\s+age|classmate|in\s+(?:her|his|their)\s+(?:class|year)|peers?\b|(?:1[0-7])\s?(?:-\s?)?(?:year|yr)s?[- ]?old\s+(?:boy|girl|boyfriend|girlfriend))"),
            // Offences of adults against adults ("controlling prostitution").
            // The words just before the phrase make an adult its subject:
            // "officers put themselves at risk", "an adult sex worker",
            // "the maternal aunt is in a relationship with".
            adult_subject: re(r"\b(?:officers?|police|staff|workers?|carers?|mum|mother|mom|dad|father|parents?|step-?(?:mum|dad|father|mother)|aunt|auntie|uncle|grandmother|grandfather|nan|gran|grandad|adult|adults|man|men|woman|women|teachers?|professionals?|practitioners?|he\s+\(adult\)|adult\s+[A-Z]{1,3})(?:\s+[A-Z]{1,3})?\s+(?:(?:is|was|has|have|had|been|being|are|were|keeps?|continues\s+to|an?|also|now|currently|still|often|regularly)\s+){0,3}$"),
            // An offence's name from the statute ("s9 sexual activity with a child").
            statute: re(r"(?:\bs\.?\s?\d{1,2}[a-z]?\b|\bsection\s+\d|\boffences?\s+of\b|\bsuspicion\s+of\b|\bcharged\s+with\b|\bconvicted\s+of\b|\barrested\s+for\b|\bcontrary\s+to\b|\bcausing\s+or\s+inciting\b|\bunder\s+13\s+to\b|\bwith\s+a\s+child\b)[^.;!?]{0,40}$"),
            // The child receives, not sends: "sending sexual messages to the child".
            to_the_child: re(r"^\s*(?:to|at)\s+(?:the\s+)?(?:child|children|young\s+person|girl|boy|her|him|them|child\s+[A-Z]{1,3}|victim)\b"),
            // Words after the phrase that make it about something else:
            // "involved in CSE awareness sessions".
            not_about_the_child: re(r"^\s*(?:and\s+relationships?|education|ed\b|health|advice|clinic|awareness|training|prevention|team|teams|work|sessions?|meetings?|panel|strategy|services?|unit|disruption|investigations?|operation)\b"),
            // A child named or referred to as a subject ("Child Y and Adult Z").
            child_subject: re(r"\b(?:child(?:\s+[A-Z]{1,3}\b)?|she|young\s+person|girl|boy|yp)\b(?:['’]s\b)?"),
            prostitution_of_adults: re(r"\b(?:controlling|control\s+of|convicted|conviction|charged|offences?|brothel|adult|women\s+in|causing\s+or\s+inciting|keeping\s+a)\b[^.;!?]{0,20}$"),
        }
    })
}

/// Byte ranges of sentences: split after `.`, `!`, `?`, `;` and newlines.
fn sentences(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let end_here = match b {
            b'\n' | b';' | b'!' | b'?' => true,
            b'.' => bytes.get(i + 1).is_none_or(|n| n.is_ascii_whitespace()),
            _ => false,
        };
        if end_here {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push((start, text.len()));
    }
    out
}

/// Byte ranges inside quotation marks: straight double quotes in pairs,
/// curly double and single quotes, and straight single quotes that open at
/// a word's start and close at its end (so apostrophes are not quotes).
fn quoted(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open: Option<(usize, char)> = None;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let prev = k.checked_sub(1).map(|p| chars[p].1);
        let next = chars.get(k + 1).map(|n| n.1);
        match open {
            None => {
                let opens = match c {
                    '"' | '“' | '‘' => true,
                    '\'' => prev.is_none_or(|p| !p.is_alphanumeric()),
                    _ => false,
                };
                if opens {
                    open = Some((i, c));
                }
            }
            Some((s, o)) => {
                let closes = match (o, c) {
                    ('"', '"') | ('“', '”') | ('“', '"') | ('‘', '’') => true,
                    ('\'', '\'') => next.is_none_or(|n| !n.is_alphanumeric()),
                    _ => false,
                };
                if closes {
                    out.push((s, i + c.len_utf8()));
                    open = None;
                } else if c == '\n' {
                    open = None;
                }
            }
        }
    }
    out
}

/// The child's age: the caller's, else the youngest age under 18 the text
/// states ("a 12-year-old", "aged 12", "she is 12").
fn child_age(text: &str, cx: &LanguageContext, c: &Compiled) -> Option<u32> {
    if cx.age.is_some() {
        return cx.age;
    }
    c.age
        .captures_iter(text)
        .filter_map(|m| {
            (1..=3)
                .find_map(|g| m.get(g))
                .and_then(|g| g.as_str().parse::<u32>().ok())
        })
        .filter(|&a| a < 18)
        .min()
}

/// Checks `text` and returns the phrases found, in order of position. Never
/// fails: text of any length or content is checked (the caller bounds it).
pub fn check(text: &str, cx: &LanguageContext) -> Vec<Finding> {
    let c = compiled();
    let sents = sentences(text);
    let quotes = quoted(text);
    let age = child_age(text, cx, c);
    let under_13 = age.is_some_and(|a| a < 13);
    let mut candidates: Vec<Finding> = Vec::new();
    for (si, &(s0, s1)) in sents.iter().enumerate() {
        let sentence = &text[s0..s1];
        // The sentence before counts for "is there an adult": "He is 32. He
        // is her boyfriend."
        let context_start = if si > 0 { sents[si - 1].0 } else { s0 };
        let context = &text[context_start..s1];
        let adult_here = c.adult.is_match(context);
        let peer_here = c.peer.is_match(sentence);
        let sexual_here = c.sexual.is_match(sentence);
        for (re, rule) in &c.rules {
            for m in re.find_iter(sentence) {
                let (a, b) = (s0 + m.start(), s0 + m.end());
                if quotes.iter().any(|&(q0, q1)| q0 <= a && b <= q1) {
                    continue;
                }
                // What decides is near the phrase: a window either side keeps
                // a sentence of any length linear to check.
                let before = tail(&sentence[..m.start()], WINDOW);
                let after = head(&sentence[m.end()..], WINDOW);
                if is_reported(before, after, c) || c.negation.is_match(before) {
                    continue;
                }
                // Someone else is its subject, or it names an offence, or
                // the child is the one receiving, or it is about a service.
                // (Not for consent or exchange: "the sex with Adult X was
                // consensual" and "the men offered her drugs for sex" harm
                // whoever is the subject.)
                let about_the_act = matches!(rule.guidance, Guidance::Consent | Guidance::Exchange);
                if (!about_the_act && c.adult_subject.is_match(before) && !names_a_child(before, c))
                    || (matches!(rule.guidance, Guidance::SexualActivity | Guidance::Images)
                        && c.statute.is_match(before))
                    || (rule.guidance == Guidance::Images && c.to_the_child.is_match(after))
                    || (matches!(
                        rule.guidance,
                        Guidance::InvolvedIn | Guidance::Prostitution | Guidance::SexualActivity
                    ) && c.not_about_the_child.is_match(after))
                {
                    continue;
                }
                let applies = match rule.when {
                    When::Always => true,
                    When::AboutAnAdult => under_13 || (adult_here && !peer_here),
                    When::AboutAnAdultAnyAge => adult_here && !peer_here,
                    When::Under13 => age.is_none_or(|a| a < 13),
                    When::AboutSex => {
                        sexual_here
                            && !c
                                .process_consent
                                .is_match(head(&sentence[m.start()..], WINDOW))
                    }
                };
                if !applies {
                    continue;
                }
                let lead_in = tail(&text[context_start..b], WINDOW);
                if rule.guidance == Guidance::Relationship
                    && c.third_party_relationship
                        .find_iter(lead_in)
                        .any(|t| t.end() == lead_in.len())
                {
                    continue; // mum's boyfriend is mum's boyfriend
                }
                if rule.guidance == Guidance::Prostitution
                    && m.as_str().to_lowercase().starts_with("prostitut")
                    && c.prostitution_of_adults.is_match(before)
                {
                    continue;
                }
                candidates.push(Finding {
                    start: a,
                    end: b,
                    phrase: text[a..b].to_owned(),
                    guidance: rule.guidance,
                    why: rule.guidance.why(),
                    suggestion: rule.guidance.suggestion(),
                });
            }
        }
    }
    // Where two rules found overlapping words, keep the one that starts
    // first (the longer if they start together): one finding per phrase.
    candidates.sort_by(|x, y| x.start.cmp(&y.start).then(y.end.cmp(&x.end)));
    let mut out: Vec<Finding> = Vec::with_capacity(candidates.len());
    for f in candidates {
        if out.last().is_none_or(|l| f.start >= l.end) {
            out.push(f);
        }
    }
    out
}

/// How far either side of a phrase the checker looks for quoting, negation
/// and consent to a process, in bytes.
const WINDOW: usize = 160;

/// The last `n` bytes of `s` or fewer, cut at a character boundary.
fn tail(s: &str, n: usize) -> &str {
    let mut i = s.len().saturating_sub(n);
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The first `n` bytes of `s` or fewer, cut at a character boundary.
fn head(s: &str, n: usize) -> &str {
    let mut i = n.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    &s[..i]
}

/// Whether the words before a phrase name a child as (one of) its
/// subjects: "Child Y and Adult Z had sex" is about the child; "Child
/// BD's mother is" is about the mother.
fn names_a_child(before: &str, c: &Compiled) -> bool {
    c.child_subject
        .find_iter(before)
        .any(|m| !(m.as_str().ends_with("'s") || m.as_str().ends_with("’s")))
}

/// Whether the phrase is in reported speech: a verb of saying with someone
/// saying it, before the phrase or just after it (", she said").
fn is_reported(before: &str, after: &str, c: &Compiled) -> bool {
    let not_speech: Vec<(usize, usize)> = c
        .not_quoting
        .find_iter(before)
        .map(|n| (n.start(), n.end()))
        .collect();
    // "was reported missing", "is described as" are not someone speaking.
    let said_before = c.reporting_before.find_iter(before).any(|m| {
        !not_speech
            .iter()
            .any(|&(n0, n1)| n0 < m.end() && m.start() < n1)
    });
    said_before || c.reporting_after.is_match(after)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases(text: &str, age: Option<u32>) -> Vec<String> {
        check(text, &LanguageContext { age })
            .into_iter()
            .map(|f| f.phrase)
            .collect()
    }

    #[test]
    fn offsets_are_byte_offsets_into_the_text() {
        let text = "Zoë’s notes: she is “streetwise” and — Zoë — she is putting herself at risk.";
        let f = check(text, &LanguageContext::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(&text[f[0].start..f[0].end], "putting herself at risk");
    }

    #[test]
    fn quoting_and_reported_speech_are_not_the_writers_words() {
        assert!(phrases("She said he is her boyfriend. He is 24.", None).is_empty());
        assert!(phrases("He is her boyfriend, she says. He is 24.", None).is_empty());
        assert_eq!(
            phrases("He is 24. He is her boyfriend.", None),
            vec!["boyfriend"]
        );
    }

    #[test]
    fn negation_and_process_consent_are_not_flagged() {
        assert!(phrases("She cannot consent to sexual activity.", Some(12)).is_empty());
        assert!(phrases(
            "Mum gave consent for the referral about the sexual abuse.",
            Some(12)
        )
        .is_empty());
        assert_eq!(
            phrases("The sex was consensual.", Some(15)),
            vec!["consensual"]
        );
    }

    #[test]
    fn under_13_changes_what_sexual_wording_means() {
        assert_eq!(
            phrases("She is sexually active.", Some(12)),
            vec!["sexually active"]
        );
        assert!(phrases("She is sexually active.", Some(15)).is_empty());
        assert_eq!(
            phrases("She had sex with a boy from school.", Some(11)),
            vec!["had sex with"]
        );
        assert!(phrases("She had sex with a boy from school.", Some(15)).is_empty());
    }

    #[test]
    fn hostile_and_huge_input_is_checked_without_panicking() {
        let huge = "she is putting herself at risk ".repeat(20_000);
        assert_eq!(check(&huge, &LanguageContext::default()).len(), 20_000);
        for s in ["", "\"", "'", "“", "\u{0}", "...;;;!!!", "é'\"’‘", "\n\n\n"] {
            let _ = check(s, &LanguageContext { age: Some(0) });
        }
    }
}
