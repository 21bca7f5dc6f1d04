//! The word lists seeded records are made from: company words, names, cities, streets,
//! Case subjects, products, and the awkward names that test file naming.

/// Account names that break naive file naming: path separators, quotes, dots, emoji,
/// CJK, accents, surrounding spaces, duplicates and the 255-character maximum.
pub(super) fn awkward_account_names() -> Vec<String> {
    let mut names: Vec<String> = [
        ".",
        "..",
        "Acme / Subsidiary",
        "North/South Trading",
        "O'Reilly & Sons",
        "The \"Quoted\" Company",
        "Café Zürich GmbH",
        "Ærøskøbing Fiskeri ApS",
        "株式会社テスト商事",
        "北京科技有限公司",
        "🚀 Rocket Labs 🚀",
        "Smile 😀 Foods",
        "  Leading and trailing spaces  ",
        "Duplicate Name Inc",
        "Duplicate Name Inc",
        "Back\\slash Ltd",
        "Percent 100% Co",
        "Colon: Star* Question? Corp",
        "Ελληνική Εταιρεία",
        "Компания Пример",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // The longest Name a real org accepts.
    let mut long = String::from("Very Long Account Name ");
    while long.chars().count() < 255 {
        long.push_str("Lorem ipsum ");
    }
    names.push(long.chars().take(255).collect());
    names
}

pub(super) const COMPANY_WORDS: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Tyrell",
    "Cyberdyne",
    "Massive",
    "Dynamic",
    "Blue",
    "Northern",
    "Pacific",
    "Atlas",
    "Zenith",
    "Summit",
    "Nordström",
    "Søren",
    "Müller",
    "Dubois",
    "Łódź",
    "São Paulo",
];
pub(super) const COMPANY_SUFFIXES: &[&str] = &[
    "Corp",
    "Inc",
    "LLC",
    "Ltd",
    "GmbH",
    "S.A.",
    "Industries",
    "Holdings",
    "Labs",
    "Partners",
];
pub(super) const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "Chloé", "Dmitri", "Émile", "Fatima", "Günter", "Hiro", "Ingrid", "José",
    "Kaito", "Léa", "Mateo", "Nadia", "Oğuz", "Priya", "Quinn", "Renée", "Søren", "Tomás",
    "Ursula", "Văn", "Wei", "Xavier", "Yūki", "Zoë", "美咲", "D'Arcy",
];
pub(super) const LAST_NAMES: &[&str] = &[
    "Smith",
    "Johnson",
    "García",
    "Müller",
    "Dubois",
    "Rossi",
    "Nakamura",
    "Kowalski",
    "Silva",
    "O'Brien",
    "Nguyễn",
    "Andersson",
    "Papadopoulos",
    "Ivanova",
    "Martínez",
    "van der Berg",
    "Øster",
    "Çelik",
    "佐藤",
    "李",
    "Smith-Jones",
    "Doe",
];
pub(super) const CITIES: &[(&str, &str, &str, &str, f64, f64)] = &[
    (
        "San Francisco",
        "CA",
        "94105",
        "United States",
        37.7897,
        -122.3972,
    ),
    (
        "New York",
        "NY",
        "10001",
        "United States",
        40.7506,
        -73.9972,
    ),
    ("Paris", "Île-de-France", "75002", "France", 48.8686, 2.3411),
    ("München", "Bayern", "80331", "Germany", 48.1374, 11.5755),
    ("東京", "東京都", "100-0005", "Japan", 35.6812, 139.7671),
    ("São Paulo", "SP", "01310-100", "Brazil", -23.5614, -46.6559),
    ("Zürich", "ZH", "8001", "Switzerland", 47.3769, 8.5417),
    ("Toronto", "ON", "M5H 2N2", "Canada", 43.6511, -79.3832),
    ("Sydney", "NSW", "2000", "Australia", -33.8688, 151.2093),
    ("Kraków", "Małopolska", "31-042", "Poland", 50.0614, 19.9366),
];
pub(super) const STREETS: &[&str] = &[
    "1 Market Street",
    "350 Fifth Avenue\nSuite 4200",
    "12 rue de la Paix",
    "Marienplatz 8",
    "丸の内1-1-1",
    "Avenida Paulista, 1578",
    "Bahnhofstrasse 45",
    "100 King St W",
    "1 Macquarie Pl",
    "ul. Floriańska 3",
];
pub(super) const CASE_SUBJECTS: &[&str] = &[
    "Engine failure",
    "Cannot log in",
    "Invoice shows the wrong amount",
    "Ersatzteil fehlt / missing part",
    "Produit endommagé à la livraison",
    "請求書が届かない",
    "Printer says \"PC LOAD LETTER\"",
    "User's password reset loops",
    "Data export / import broken",
    "Slow dashboard 🐢",
    "Duplicate subject",
    "Duplicate subject",
];
pub(super) const PRODUCTS: &[&str] = &[
    "Platform Licenses",
    "Support Renewal",
    "Hardware Refresh",
    "Consulting Hours",
    "Expansion / Upsell",
];

/// A paragraph reused to build long texts.
pub(super) const LOREM: &str =
    "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Sed do eiusmod tempor \
incididunt ut labore et dolore magna aliqua. Überprüfung der Lieferkette — vérification \
des délais; 配送状況を確認しました. ";
