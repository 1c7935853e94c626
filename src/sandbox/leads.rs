//! The demo leads the sandbox's healthy, readable emulators start with, so that
//! `leadcheck leads` shows something on a fresh machine.
//!
//! [`demo_leads`] is deterministic: the same `now` gives the same leads, and the leads'
//! ages, customers, offers and actions do not depend on `now` at all (only their times and
//! the test leads' ticks do). About 40 leads over the last 30 days, a few a day and some days
//! without any, the newest a customer lead a few hours old, about one in eight the
//! marketplace's test lead (every customer field `MSFT_TEST_<ticks>`, as [`crate::lead::Lead`]
//! builds it).
//!
//! What a lead carries follows the research (ms-lead-docs.md §4, protocols.md §0): the
//! combined `Source-Action|Offer` with the documented sources (`AzureMarketplace`,
//! `AzurePortal`, `AppSource (SPZA)`, `TestDrive`) and actions (`INS`, `PLT`, `DNC`,
//! `Create`, `StartTestDrive`), the offer as `publisherid.offerid`, and the customer fields
//! FirstName, LastName, Email, Phone, Country, Company, Title. A "Contact me" lead (`PLT`)
//! carries the customer's notes (2022+). The customers are made up.

use crate::lead::{Lead, TICKS_AT_UNIX_EPOCH};
use serde_json::{json, Map, Value};

/// The period the demo leads span, in days before now.
pub const DAYS: i64 = 30;

/// Age of the newest lead (a customer's), in seconds: 3 hours 12 minutes.
pub const NEWEST_AGE: i64 = 3 * 3600 + 12 * 60;

/// One demo lead, in the marketplace's terms; each emulator stores it in its own shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLead {
    /// When the marketplace wrote it (Unix seconds).
    pub created: i64,
    /// `AzureMarketplace`, ...; a test lead's is its marker.
    pub source: String,
    /// `INS`, ...; a test lead's is its marker.
    pub action: String,
    /// `publisherid.offerid`; a test lead's is the offer title.
    pub offer: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub country: String,
    pub company: String,
    pub title: String,
    /// The customer's notes ("Contact me"), or the test lead's marker; may be empty.
    pub description: String,
    /// The marketplace's test lead.
    pub test: bool,
}

impl DemoLead {
    /// The combined `Source-Action|Offer`, as Salesforce's `LeadSource`, Marketo's
    /// `leadSource` and the Dynamics `subject` hold it.
    pub fn lead_source(&self) -> String {
        format!("{}-{}|{}", self.source, self.action, self.offer)
    }

    /// The Dynamics `lead` record (Web API attribute names, as
    /// [`Lead::dynamics_record`]), with `leadid` and `createdon`.
    pub fn dynamics_record(&self, leadid: &str) -> Value {
        let mut r = json!({
            "leadid": leadid,
            "createdon": crate::leads::rfc3339(self.created),
            "subject": self.lead_source(),
            "firstname": self.first_name,
            "lastname": self.last_name,
            "emailaddress1": self.email,
            "companyname": self.company,
            "jobtitle": self.title,
            "telephone1": self.phone,
            "address1_country": self.country,
            "leadsourcecode": crate::lead::DYNAMICS_LEAD_SOURCE_CODE,
        });
        if !self.description.is_empty() {
            r["description"] = self.description.clone().into();
        }
        r
    }

    /// The Lead's fields by their Salesforce API names, as web-to-lead fills them.
    pub fn salesforce_fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("FirstName", self.first_name.clone()),
            ("LastName", self.last_name.clone()),
            ("Email", self.email.clone()),
            ("Company", self.company.clone()),
            ("Title", self.title.clone()),
            ("Phone", self.phone.clone()),
            ("Country", self.country.clone()),
            ("Description", self.description.clone()),
            ("LeadSource", self.lead_source()),
        ]
    }

    /// The form's fields by Marketo's REST API names, as [`Lead::marketo_fields`].
    pub fn marketo_fields(&self) -> Map<String, Value> {
        let mut f = Map::new();
        f.insert("firstName".into(), self.first_name.clone().into());
        f.insert("lastName".into(), self.last_name.clone().into());
        f.insert("email".into(), self.email.clone().into());
        f.insert("company".into(), self.company.clone().into());
        f.insert("phone".into(), self.phone.clone().into());
        f.insert("country".into(), self.country.clone().into());
        f.insert("title".into(), self.title.clone().into());
        f.insert("leadSource".into(), self.lead_source().into());
        f
    }

    /// The marketplace's test lead minted at `created`, for `offer_title`.
    fn test_lead(created: i64, offer_title: &str) -> DemoLead {
        let ticks = TICKS_AT_UNIX_EPOCH + created.max(0) as u64 * 10_000_000;
        let lead = Lead::new(Some(ticks), Some(offer_title));
        let m = lead.marker();
        DemoLead {
            created,
            source: m.clone(),
            action: m.clone(),
            offer: lead.offer_title.clone(),
            first_name: m.clone(),
            last_name: m.clone(),
            email: lead.email(),
            phone: crate::lead::PHONE.to_string(),
            country: crate::lead::COUNTRY.to_string(),
            company: m.clone(),
            title: m.clone(),
            description: m,
            test: true,
        }
    }
}

/// The offers: (`publisherid.offerid`, offer title).
const OFFERS: &[(&str, &str)] = &[
    ("contoso.analytics", "Contoso Analytics"),
    ("fabrikam.crm", "Fabrikam CRM"),
    ("northwind.bi", "Northwind BI"),
    ("tailspin.backup", "Tailspin Backup"),
];

/// The newest three leads' (offer, (source, action)), indices into [`OFFERS`] and
/// [`ACTIONS`]: what a publisher sees first is the common kinds, on different offers.
const NEWEST: [(usize, usize); 3] = [(0, 0), (1, 3), (2, 6)];

/// (source, action), repeated by how often they come.
const ACTIONS: &[(&str, &str)] = &[
    ("AzureMarketplace", "INS"),
    ("AzureMarketplace", "INS"),
    ("AzureMarketplace", "INS"),
    ("AppSource (SPZA)", "PLT"),
    ("AppSource (SPZA)", "PLT"),
    ("AppSource (SPZA)", "INS"),
    ("AzurePortal", "Create"),
    ("TestDrive", "StartTestDrive"),
    ("AzureMarketplace", "DNC"),
];

/// A made-up customer: first name, last name, company, title, e-mail, phone, country.
type Customer = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// One customer a lead, newest lead first (so the newest show several scripts). Names and
/// companies are made up; the e-mail domains are under the reserved `.example` TLD.
#[rustfmt::skip]
const CUSTOMERS: &[Customer] = &[
    ("민준", "김", "한빛데이터 주식회사", "데이터 엔지니어", "minjun.kim@hanbitdata.example", "+82 2 555 0142", "KR"),
    ("Łukasz", "Wiśniewski", "Wiśniewski Logistyka sp. z o.o.", "Kierownik działu IT", "lukasz.wisniewski@logistyka.example", "+48 22 555 01 23", "PL"),
    ("João", "Gonçalves", "Construções Almeida, Lda.", "Diretor de Sistemas", "joao.goncalves@almeida.example", "+351 21 555 0187", "PT"),
    ("芳", "王", "上海云帆科技有限公司", "采购经理", "wang.fang@yunfan.example", "+86 21 5550 1234", "CN"),
    ("Amelia", "Hughes", "Northwind Traders", "Head of Data", "amelia.hughes@northwind.example", "+44 20 7946 0321", "GB"),
    ("Zofia", "Kowalczyk", "Piekarnia Złoty Kłos", "Właścicielka", "zofia@zlotyklos.example", "+48 12 555 77 10", "PL"),
    ("서연", "이", "서울클라우드", "IT 매니저", "seoyeon.lee@seoulcloud.example", "+82 2 555 0199", "KR"),
    ("Ana", "Conceição", "Agência Atlântico Ltda.", "Gerente de Marketing", "ana.conceicao@atlantico.example", "+55 11 5555 0134", "BR"),
    ("Jürgen", "Müller", "Müller Maschinenbau GmbH", "IT-Leiter", "j.mueller@mueller-mb.example", "+49 89 5550 1420", "DE"),
    ("志明", "陳", "台灣資訊股份有限公司", "資訊長", "chen.zhiming@twinfo.example", "+886 2 5555 0168", "TW"),
    ("Priya", "Raghunathan", "Tailspin Toys", "Engineering Manager", "priya.r@tailspintoys.example", "+91 80 5555 0101", "IN"),
    ("Krzysztof", "Dąbrowski", "Dąbrowski & Wójcik Kancelaria", "Partner", "k.dabrowski@kancelaria.example", "+48 61 555 20 40", "PL"),
    ("Olivia", "Chen", "Fabrikam Residences", "CTO", "olivia.chen@fabrikam.example", "+1 425 555 0110", "US"),
    ("健", "佐藤", "ひかり商事株式会社", "情報システム部長", "ken.sato@hikari.example", "+81 3 5555 0123", "JP"),
    ("Maria", "Gonçalves Ferreira", "Padaria São João", "Sócia-gerente", "maria.ferreira@saojoao.example", "+351 22 555 0145", "PT"),
    ("도윤", "박", "부산스마트물류", "대표이사", "doyun.park@busanlogis.example", "+82 51 555 0177", "KR"),
    ("Sofía", "Hernández", "Alpine Ski House", "Directora de TI", "sofia.hernandez@alpineski.example", "+52 55 5555 0190", "MX"),
    ("Lan", "Nguyễn Thị", "Công ty TNHH Sông Hồng", "Trưởng phòng CNTT", "lan.nguyen@songhong.example", "+84 24 5555 0156", "VN"),
    ("Małgorzata", "Zielińska", "Zielińska Consulting", "Prezes zarządu", "m.zielinska@consulting.example", "+48 71 555 30 11", "PL"),
    ("伟", "李", "深圳前海数智有限公司", "技术总监", "li.wei@qianhai.example", "+86 755 5555 0188", "CN"),
    ("Emma", "Johansson", "Woodgrove Bank", "Cloud Architect", "emma.johansson@woodgrove.example", "+46 8 555 012 34", "SE"),
    ("Rafael", "Araújo", "Coho Vineyard & Winery", "Enólogo-chefe", "rafael.araujo@cohovineyard.example", "+55 54 5555 0122", "BR"),
    ("지우", "최", "한강바이오", "연구소장", "jiwoo.choi@hangangbio.example", "+82 31 555 0165", "KR"),
    ("Noah", "Williams", "Litware, Inc.", "VP Sales Operations", "noah.williams@litware.example", "+1 206 555 0177", "US"),
    ("Agnieszka", "Wróbel", "Wróbel Meble", "Dyrektor finansowa", "a.wrobel@meble.example", "+48 58 555 44 02", "PL"),
    ("美玲", "林", "高雄智慧製造股份有限公司", "專案經理", "lin.meiling@kh-smart.example", "+886 7 5555 0139", "TW"),
    ("Lucas", "Martin", "Proseware, Inc.", "DSI", "lucas.martin@proseware.example", "+33 1 55 55 01 48", "FR"),
    ("Beatriz", "Simões", "Lisboa Digital, S.A.", "Analista de Dados", "beatriz.simoes@lisboadigital.example", "+351 21 555 0163", "PT"),
    ("Aiko", "Tanaka", "Contoso Pharmaceuticals", "Data Scientist", "aiko.tanaka@contosopharma.example", "+81 6 5555 0172", "JP"),
    ("Chidi", "Okafor", "Wide World Importers", "Operations Director", "chidi.okafor@wideworld.example", "+234 1 555 0119", "NG"),
    ("静", "张", "杭州西湖云计算有限公司", "运维主管", "zhang.jing@xihucloud.example", "+86 571 5555 0150", "CN"),
    ("Tomasz", "Szymański", "Szymański Transport", "Właściciel", "tomasz@szymanski-transport.example", "+48 42 555 60 70", "PL"),
    ("Hannah", "Schmidt", "Adventure Works Cycles", "Procurement Lead", "hannah.schmidt@adventure-works.example", "+49 30 5550 1877", "DE"),
    ("하은", "정", "제주그린에너지", "사업개발팀장", "haeun.jung@jejugreen.example", "+82 64 555 0108", "KR"),
    ("Pedro", "Magalhães", "Cooperativa Agrícola do Douro", "Presidente", "pedro.magalhaes@douro.example", "+351 254 555 019", "PT"),
    ("Grace", "O'Brien", "Trey Research", "Research Director", "grace.obrien@treyresearch.example", "+353 1 555 0140", "IE"),
];

/// What a "Contact me" customer wrote, by turns.
const NOTES: &[&str] = &[
    "Please call me about a pilot for about 200 users.",
    "Czy jest wersja z fakturą w PLN? Proszę o kontakt.",
    "도입 비용과 일정에 대해 상담을 받고 싶습니다.",
    "Gostaria de uma demonstração para a nossa equipa.",
    "请联系我们讨论企业版授权。",
];

/// Leads per 24 hours back from now (the first entry: the last 24 hours).
const PER_DAY: [usize; DAYS as usize] = [
    2, 2, 0, 2, 3, 1, 0, 2, 2, 1, 0, 0, 2, 1, 3, 1, 3, 0, 1, 1, 2, 0, 1, 3, 1, 0, 2, 1, 1, 2,
];

/// Every eighth lead from the sixth newest is a test lead.
fn is_test(index: usize) -> bool {
    index % 8 == 5
}

/// A small deterministic generator (SplitMix64): the same leads on every machine.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The ages of the leads in seconds, youngest first, all distinct and within [`DAYS`].
fn ages() -> Vec<i64> {
    let mut mix = Mix(0x1EAD_C4EC);
    let mut ages = Vec::new();
    for (day, n) in PER_DAY.iter().enumerate() {
        let start = day as i64 * 86_400;
        for k in 0..*n {
            let age = if day == 0 && k == 0 {
                NEWEST_AGE
            } else {
                // Later than the newest on the first day; inside the day, a minute's margin.
                let lo = if day == 0 {
                    NEWEST_AGE + 600
                } else {
                    start + 60
                };
                let hi = start + 86_400 - 60;
                lo + mix.below((hi - lo) as u64) as i64
            };
            ages.push(age);
        }
    }
    ages.sort_unstable();
    // Distinct times, so that "newest first" has one answer.
    for i in 1..ages.len() {
        if ages[i] <= ages[i - 1] {
            ages[i] = ages[i - 1] + 60;
        }
    }
    ages
}

/// The demo leads as of `now` (Unix seconds), newest first.
pub fn demo_leads(now: i64) -> Vec<DemoLead> {
    let mut mix = Mix(0x0FFE_4ACC);
    let mut customers = CUSTOMERS.iter();
    let mut notes = NOTES.iter().cycle();
    let mut out = Vec::new();
    for (i, age) in ages().into_iter().enumerate() {
        let created = now.saturating_sub(age);
        let (o, a) = (
            mix.below(OFFERS.len() as u64) as usize,
            mix.below(ACTIONS.len() as u64) as usize,
        );
        let (o, a) = NEWEST.get(i).copied().unwrap_or((o, a));
        let (offer, offer_title) = OFFERS[o % OFFERS.len()];
        let (source, action) = ACTIONS[a % ACTIONS.len()];
        if is_test(i) {
            out.push(DemoLead::test_lead(created, offer_title));
            continue;
        }
        // One customer a lead: the table has one for every customer lead.
        let Some(&(first, last, company, title, email, phone, country)) = customers.next() else {
            continue;
        };
        let description = if action == "PLT" {
            notes.next().copied().unwrap_or_default().to_string()
        } else {
            String::new()
        };
        out.push(DemoLead {
            created,
            source: source.to_string(),
            action: action.to_string(),
            offer: offer.to_string(),
            first_name: first.to_string(),
            last_name: last.to_string(),
            email: email.to_string(),
            phone: phone.to_string(),
            country: country.to_string(),
            company: company.to_string(),
            title: title.to_string(),
            description,
            test: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_000_000;

    #[test]
    fn about_forty_leads_over_thirty_days_newest_first() {
        let leads = demo_leads(NOW);
        assert!((35..=45).contains(&leads.len()), "{}", leads.len());
        assert_eq!(leads, demo_leads(NOW), "deterministic");
        // Strictly newest first, all inside the period.
        for w in leads.windows(2) {
            assert!(w[0].created > w[1].created);
        }
        assert!(leads
            .iter()
            .all(|l| l.created <= NOW && l.created > NOW - DAYS * 86_400));
        // The newest is a customer's, a few hours old.
        assert!(!leads[0].test);
        assert_eq!(NOW - leads[0].created, NEWEST_AGE);
        // Some days without a lead, none with more than a few.
        let mut per_day = [0usize; DAYS as usize];
        for l in &leads {
            per_day[((NOW - l.created) / 86_400) as usize] += 1;
        }
        assert!(per_day.iter().filter(|n| **n == 0).count() >= 5);
        assert!(per_day.iter().all(|n| *n <= 3));
        // The same layout whatever now is.
        let later: Vec<i64> = demo_leads(NOW + 12_345)
            .iter()
            .map(|l| NOW + 12_345 - l.created)
            .collect();
        let ages: Vec<i64> = leads.iter().map(|l| NOW - l.created).collect();
        assert_eq!(later, ages);
    }

    #[test]
    fn varied_customers_offers_and_documented_actions() {
        let leads = demo_leads(NOW);
        let customers: Vec<&DemoLead> = leads.iter().filter(|l| !l.test).collect();
        let tests = leads.len() - customers.len();
        // About one in eight is a test lead.
        assert!((4..=6).contains(&tests), "{tests}");
        let mut emails: Vec<&str> = leads.iter().map(|l| l.email.as_str()).collect();
        emails.sort_unstable();
        emails.dedup();
        assert_eq!(emails.len(), leads.len(), "one person a lead");
        for script in ['ł', 'ç', '김', '王'] {
            assert!(
                customers
                    .iter()
                    .any(|l| format!("{}{}", l.first_name, l.last_name).contains(script)),
                "{script}"
            );
        }
        let documented = [
            ("AzureMarketplace", "INS"),
            ("AzureMarketplace", "DNC"),
            ("AppSource (SPZA)", "INS"),
            ("AppSource (SPZA)", "PLT"),
            ("AzurePortal", "Create"),
            ("TestDrive", "StartTestDrive"),
        ];
        for l in &customers {
            assert!(
                documented.contains(&(l.source.as_str(), l.action.as_str())),
                "{l:?}"
            );
            assert!(OFFERS.iter().any(|(id, _)| *id == l.offer));
            // What the readers recognize and split back.
            assert!(crate::leads::salesforce::is_marketplace_source(
                &l.lead_source()
            ));
            assert!(crate::leads::dynamics::is_marketplace_subject(
                &l.lead_source()
            ));
            let (s, a, o) = crate::leads::dynamics::split_subject(&l.lead_source());
            assert_eq!(
                (s.as_str(), a.as_str(), o.as_str()),
                (&*l.source, &*l.action, &*l.offer)
            );
        }
        for action in ["INS", "PLT", "Create"] {
            assert!(customers.iter().any(|l| l.action == action), "{action}");
        }
        assert!(
            customers
                .iter()
                .map(|l| &l.offer)
                .collect::<std::collections::BTreeSet<_>>()
                .len()
                >= 3
        );
    }

    #[test]
    fn test_leads_are_the_marketplace_test_lead() {
        for l in demo_leads(NOW).iter().filter(|l| l.test) {
            let ticks = TICKS_AT_UNIX_EPOCH + l.created as u64 * 10_000_000;
            let lead = Lead::new(Some(ticks), Some(&l.offer));
            assert_eq!(l.lead_source(), lead.combined_lead_source());
            assert_eq!(l.marketo_fields(), lead.marketo_fields());
            let mut want = lead.dynamics_record();
            want["leadid"] = "x".into();
            want["createdon"] = crate::leads::rfc3339(l.created).into();
            assert_eq!(l.dynamics_record("x"), want);
            // Read back, it is a test lead.
            let r = l.dynamics_record("x");
            let listed = crate::leads::dynamics::from_record(r.as_object().unwrap());
            assert!(listed.test);
            assert_eq!(listed.created, Some(l.created));
        }
    }
}
