//! The word lists the generator draws from: names, places, businesses,
//! vehicles.
//!
//! Names are common given names and family names in generic form, combined
//! at random, so no record describes a real person; a few full names that
//! belong to well-known public figures are never produced
//! ([`AVOID_FULL_NAMES`]). Places and businesses are invented ("Northshire",
//! "Easthaven", "Golden Spoon Takeaway"); postcodes use the area `NS`, which
//! no real UK postcode has, and phone numbers come from the range Ofcom
//! keeps for drama (07700 900000 to 900999).
//!
//! Names follow a naming tradition chosen from the household's ethnic group
//! so that spelling variants and transliterations (Mohammed, Muhammad,
//! Mohamed) occur where they would in life. Nothing else is drawn from the
//! tradition.

use vigil_model::codes::OnsEthnicity;

/// A naming tradition: lists of given names (female, male) and family names.
#[derive(Debug)]
pub struct Tradition {
    pub female: &'static [&'static str],
    pub male: &'static [&'static str],
    pub family: &'static [&'static str],
}

const BRITISH: Tradition = Tradition {
    female: &[
        "Jade",
        "Chloe",
        "Emily",
        "Katie",
        "Amy",
        "Lauren",
        "Sophie",
        "Jessica",
        "Hannah",
        "Megan",
        "Olivia",
        "Charlotte",
        "Ellie",
        "Holly",
        "Bethany",
        "Rebecca",
        "Danielle",
        "Kayleigh",
        "Stacey",
        "Leanne",
        "Shannon",
        "Courtney",
        "Paige",
        "Abigail",
        "Natasha",
    ],
    male: &[
        "Jack", "Thomas", "Daniel", "Ryan", "Liam", "Connor", "Callum", "Kyle", "Jordan", "Lewis",
        "Nathan", "Joshua", "Matthew", "Luke", "Jamie", "Reece", "Bradley", "Samuel", "Owen",
        "Dylan", "Aaron", "Harvey", "Mason", "Ethan", "Brandon",
    ],
    family: &[
        "Smith",
        "Taylor",
        "Brown",
        "Williams",
        "Wilson",
        "Davies",
        "Robinson",
        "Wright",
        "Thompson",
        "Evans",
        "Walker",
        "White",
        "Roberts",
        "Green",
        "Hall",
        "Wood",
        "Jackson",
        "Clarke",
        "Hughes",
        "Turner",
        "Hill",
        "Cooper",
        "Ward",
        "Morris",
        "Baker",
        "Harrison",
        "Holmes",
        "Marsh",
        "Fletcher",
        "Barker",
        "Booth",
        "Dawson",
        "Hartley",
        "Pickering",
        "Atkinson",
        "Kershaw",
        "Ashworth",
        "Greenwood",
        "Lister",
        "Sutcliffe",
    ],
};

const IRISH: Tradition = Tradition {
    female: &[
        "Siobhan", "Niamh", "Aoife", "Ciara", "Orla", "Roisin", "Caoimhe", "Sinead",
    ],
    male: &[
        "Sean", "Patrick", "Conor", "Declan", "Ciaran", "Eoin", "Padraig", "Cormac",
    ],
    family: &[
        "Murphy",
        "Kelly",
        "O'Brien",
        "Byrne",
        "Ryan",
        "Doyle",
        "McCarthy",
        "Quinn",
        "Gallagher",
        "Brennan",
    ],
};

const TRAVELLER: Tradition = Tradition {
    female: &["Bridget", "Mary", "Kathleen", "Margaret", "Nora", "Winnie"],
    male: &["Johnny", "Michael", "Patrick", "Martin", "Tommy", "Jimmy"],
    family: &[
        "Ward", "McDonagh", "Joyce", "Maughan", "Doherty", "Connors", "Stokes", "Cash",
    ],
};

const EAST_EUROPEAN: Tradition = Tradition {
    female: &[
        "Zuzanna",
        "Natalia",
        "Oliwia",
        "Ioana",
        "Elena",
        "Andreea",
        "Agnieszka",
        "Ewa",
        "Kristina",
        "Daria",
    ],
    male: &[
        "Jakub",
        "Kacper",
        "Mateusz",
        "Piotr",
        "Andrei",
        "Ionut",
        "Alexandru",
        "Tomasz",
        "Marius",
        "Lukas",
    ],
    family: &[
        "Nowak",
        "Kowalski",
        "Wisniewski",
        "Wojcik",
        "Popescu",
        "Ionescu",
        "Popa",
        "Dumitru",
        "Horvath",
        "Kazlauskas",
        "Petrov",
        "Dimitrov",
    ],
};

const ROMA: Tradition = Tradition {
    female: &["Mirela", "Ramona", "Florentina", "Roxana", "Denisa"],
    male: &["Florin", "Marian", "Costel", "Daniel", "Gabriel"],
    family: &["Lakatos", "Rostas", "Balogh", "Stan", "Radu", "Sandor"],
};

const SOUTH_ASIAN_MUSLIM: Tradition = Tradition {
    female: &[
        "Aisha", "Fatima", "Zainab", "Maryam", "Amina", "Sana", "Hina", "Noor", "Samina",
        "Rukhsana", "Nadia", "Sadia", "Farah", "Iqra",
    ],
    male: &[
        "Mohammed", "Ahmed", "Ali", "Imran", "Tariq", "Adil", "Hamza", "Bilal", "Usman", "Zubair",
        "Faisal", "Kamran", "Shahid", "Arif", "Yusuf", "Abdullah", "Ibrahim", "Hassan",
    ],
    family: &[
        "Khan", "Hussain", "Ahmed", "Ali", "Shah", "Iqbal", "Akhtar", "Rahman", "Begum",
        "Chaudhry", "Malik", "Butt", "Mahmood", "Aslam", "Bibi", "Islam", "Uddin", "Miah",
    ],
};

const SOUTH_ASIAN_OTHER: Tradition = Tradition {
    female: &[
        "Harpreet", "Gurpreet", "Jaspreet", "Priya", "Anjali", "Sunita", "Pooja", "Simran",
        "Kiran", "Neha",
    ],
    male: &[
        "Harjit", "Gurdeep", "Ravi", "Sanjay", "Rajesh", "Vikram", "Deepak", "Arjun", "Amit",
        "Rohan",
    ],
    family: &[
        "Singh", "Kaur", "Patel", "Sharma", "Gill", "Sandhu", "Kumar", "Mistry", "Bains", "Dhillon",
    ],
};

const BANGLADESHI: Tradition = Tradition {
    female: &[
        "Fatima", "Nusrat", "Sumaiya", "Tahmina", "Ruksana", "Aisha", "Jannat", "Sharmin",
    ],
    male: &[
        "Mohammed", "Abdul", "Rahim", "Shafiq", "Jamal", "Rashid", "Sajid", "Anwar",
    ],
    family: &[
        "Miah",
        "Uddin",
        "Rahman",
        "Islam",
        "Begum",
        "Ahmed",
        "Hoque",
        "Chowdhury",
        "Khatun",
        "Ali",
    ],
};

const EAST_ASIAN: Tradition = Tradition {
    female: &["Mei", "Xin", "Ying", "Hui", "Lan", "Jing", "Yan"],
    male: &["Wei", "Jun", "Hao", "Ming", "Jian", "Lei", "Tao"],
    family: &[
        "Chen", "Wang", "Li", "Zhang", "Liu", "Lin", "Huang", "Zhou", "Wu", "Ho",
    ],
};

const WEST_AFRICAN: Tradition = Tradition {
    female: &[
        "Ngozi", "Chioma", "Amara", "Folake", "Blessing", "Precious", "Abena", "Adwoa", "Esther",
        "Grace",
    ],
    male: &[
        "Chidi", "Emeka", "Tunde", "Kwame", "Kofi", "Femi", "Samuel", "David", "Kelechi", "Yaw",
    ],
    family: &[
        "Okafor", "Adeyemi", "Mensah", "Boateng", "Okonkwo", "Osei", "Adebayo", "Owusu", "Eze",
        "Asante",
    ],
};

const EAST_AFRICAN: Tradition = Tradition {
    female: &[
        "Hodan", "Amina", "Faduma", "Sahra", "Hibo", "Ayaan", "Luwam", "Selam",
    ],
    male: &[
        "Mohammed",
        "Abdi",
        "Hassan",
        "Ahmed",
        "Omar",
        "Yonas",
        "Dawit",
        "Abdirahman",
    ],
    family: &[
        "Abdi", "Hassan", "Farah", "Warsame", "Mohamud", "Osman", "Tesfaye", "Haile", "Jama", "Ali",
    ],
};

const CARIBBEAN: Tradition = Tradition {
    female: &[
        "Shanice",
        "Tia",
        "Keisha",
        "Aaliyah",
        "Jade",
        "Chantelle",
        "Jasmine",
        "Tanisha",
        "Kadeisha",
        "Leah",
    ],
    male: &[
        "Tyrone",
        "Jermaine",
        "Marcus",
        "Dwayne",
        "Andre",
        "Kyle",
        "Jordan",
        "Romario",
        "Kemar",
        "Nathaniel",
    ],
    family: &[
        "Campbell", "Francis", "Henry", "Grant", "Bailey", "Morgan", "Richards", "Reid", "Clarke",
        "Brown",
    ],
};

const ARAB: Tradition = Tradition {
    female: &[
        "Layla", "Mariam", "Hana", "Noor", "Rania", "Salma", "Yasmin", "Dina",
    ],
    male: &[
        "Omar", "Khalid", "Youssef", "Hassan", "Ibrahim", "Karim", "Tariq", "Sami",
    ],
    family: &[
        "Haddad", "Mansour", "Nasser", "Saleh", "Hamdan", "Darwish", "Al-Masri", "Khalil", "Aziz",
        "Said",
    ],
};

const OTHER: Tradition = Tradition {
    female: &[
        "Maria", "Ana", "Sofia", "Lina", "Sara", "Nina", "Eva", "Mina",
    ],
    male: &[
        "Carlos", "Luis", "Ahmad", "Reza", "Mehmet", "Daniel", "Ali", "Kian",
    ],
    family: &[
        "Rodriguez",
        "Silva",
        "Santos",
        "Yilmaz",
        "Hosseini",
        "Ahmadi",
        "Karimi",
        "Demir",
    ],
};

/// Draws a naming tradition for a household of the given ethnic group.
/// `roll` is a number in [0, 1) so that groups with several traditions
/// (mixed, other) can be split without this module holding a random source.
pub fn tradition(group: OnsEthnicity, roll: f64) -> &'static Tradition {
    use OnsEthnicity::*;
    match group {
        WhiteBritish => &BRITISH,
        WhiteIrish => &IRISH,
        WhiteGypsyIrishTraveller => &TRAVELLER,
        WhiteRoma => &ROMA,
        WhiteOther => {
            if roll < 0.75 {
                &EAST_EUROPEAN
            } else {
                &OTHER
            }
        }
        MixedWhiteBlackCaribbean => {
            if roll < 0.5 {
                &BRITISH
            } else {
                &CARIBBEAN
            }
        }
        MixedWhiteBlackAfrican => {
            if roll < 0.5 {
                &BRITISH
            } else {
                &WEST_AFRICAN
            }
        }
        MixedWhiteAsian => {
            if roll < 0.5 {
                &BRITISH
            } else if roll < 0.8 {
                &SOUTH_ASIAN_MUSLIM
            } else {
                &SOUTH_ASIAN_OTHER
            }
        }
        MixedOther => {
            if roll < 0.6 {
                &BRITISH
            } else {
                &OTHER
            }
        }
        AsianIndian => {
            if roll < 0.2 {
                &SOUTH_ASIAN_MUSLIM
            } else {
                &SOUTH_ASIAN_OTHER
            }
        }
        AsianPakistani => &SOUTH_ASIAN_MUSLIM,
        AsianBangladeshi => &BANGLADESHI,
        AsianChinese => &EAST_ASIAN,
        AsianOther => {
            if roll < 0.4 {
                &SOUTH_ASIAN_OTHER
            } else if roll < 0.7 {
                &SOUTH_ASIAN_MUSLIM
            } else {
                &EAST_ASIAN
            }
        }
        BlackAfrican => {
            if roll < 0.65 {
                &WEST_AFRICAN
            } else {
                &EAST_AFRICAN
            }
        }
        BlackCaribbean => &CARIBBEAN,
        BlackOther => {
            if roll < 0.5 {
                &CARIBBEAN
            } else {
                &WEST_AFRICAN
            }
        }
        OtherArab => &ARAB,
        OtherAny => &OTHER,
    }
}

/// Groups of spellings of one name. A record may write any of them.
pub const VARIANTS: &[&[&str]] = &[
    &["Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"],
    &["Ahmed", "Ahmad", "Ahmet"],
    &["Yusuf", "Yousuf", "Yousaf", "Youssef"],
    &["Usman", "Osman", "Uthman"],
    &["Aisha", "Ayesha", "Aysha"],
    &["Fatima", "Fatimah", "Fatema"],
    &["Zainab", "Zaynab"],
    &["Maryam", "Mariam", "Mariyam"],
    &["Amina", "Aminah"],
    &["Noor", "Nur"],
    &["Nadia", "Nadiya"],
    &["Hussain", "Hussein", "Husain"],
    &["Rahman", "Rehman"],
    &["Chaudhry", "Chaudhary", "Choudhury"],
    &["Chowdhury", "Choudhury", "Chowdhry"],
    &["Mahmood", "Mehmood", "Mahmud"],
    &["Mohamud", "Mahamud"],
    &["Miah", "Mia"],
    &["Hoque", "Haque", "Huq"],
    &["Omar", "Umar"],
    &["Khalid", "Khaled"],
    &["Hassan", "Hasan"],
    &["Layla", "Leila", "Laila"],
    &["Abdi", "Abdy"],
    &["Katie", "Katy", "Katey"],
    &["Kayleigh", "Kayley", "Kaylee"],
    &["Stacey", "Stacy"],
    &["Leanne", "Lianne"],
    &["Sean", "Shaun", "Shawn"],
    &["Conor", "Connor"],
    &["Siobhan", "Shivaun"],
    &["Niamh", "Neve"],
    &["Megan", "Meghan"],
    &["Rebecca", "Rebekah"],
    &["Sophie", "Sofie"],
    &["Reece", "Reese"],
    &["Aaliyah", "Aliyah"],
    &["Shanice", "Shaniece"],
    &["Jermaine", "Germaine"],
    &["Chen", "Chan"],
    &["Wang", "Wong"],
    &["Li", "Lee"],
    &["Zhang", "Cheung"],
    &["Huang", "Wong"],
    &["Ho", "He"],
    &["Jakub", "Jacob"],
    &["Andrei", "Andrey"],
    &["Ionut", "Ionuț"],
    &["Harpreet", "Harprit"],
    &["Gurpreet", "Gurprit"],
    &["Mateusz", "Mateus"],
    &["Zubair", "Zubayr"],
    &["Faisal", "Faysal"],
    &["Yonas", "Yonatan"],
    &["Rukhsana", "Ruksana"],
];

/// The other spellings of a name (empty when it has none).
pub fn variants_of(name: &str) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for group in VARIANTS {
        if group.contains(&name) {
            for v in group.iter() {
                if *v != name && !out.contains(v) {
                    out.push(v);
                }
            }
        }
    }
    out
}

/// Common short forms: (given name, short form).
pub const NICKNAMES: &[(&str, &str)] = &[
    ("Mohammed", "Mo"),
    ("Rebecca", "Becky"),
    ("Bethany", "Beth"),
    ("Danielle", "Dani"),
    ("Joshua", "Josh"),
    ("Matthew", "Matty"),
    ("Thomas", "Tommy"),
    ("Daniel", "Danny"),
    ("Nathan", "Nate"),
    ("Jessica", "Jess"),
    ("Charlotte", "Charlie"),
    ("Olivia", "Liv"),
    ("Callum", "Cal"),
    ("Bradley", "Brad"),
    ("Samuel", "Sam"),
    ("Alexandru", "Alex"),
    ("Abdullah", "Abdul"),
    ("Imran", "Immy"),
    ("Zainab", "Zee"),
    ("Natalia", "Nat"),
    ("Natasha", "Tash"),
    ("Jakub", "Kuba"),
    ("Ibrahim", "Ibby"),
    ("Jermaine", "Jay"),
    ("Tyrone", "Ty"),
    ("Emily", "Em"),
    ("Abigail", "Abbie"),
    ("Courtney", "Court"),
    ("Kamran", "Kam"),
    ("Yusuf", "Yus"),
    ("Shannon", "Shan"),
    ("Patrick", "Paddy"),
    ("Michael", "Mikey"),
    ("Tomasz", "Tomek"),
    ("Harvey", "Harv"),
    ("Kathleen", "Kath"),
    ("Margaret", "Maggie"),
    ("Jasmine", "Jaz"),
    ("Priya", "Pri"),
    ("Harpreet", "Harps"),
];

/// The short form of a given name, if it has a common one.
pub fn nickname_of(given: &str) -> Option<&'static str> {
    NICKNAMES.iter().find(|(g, _)| *g == given).map(|(_, n)| *n)
}

/// Names used on the street, or online, by adults who exploit children.
pub const STREET_NAMES: &[&str] = &[
    "Boss", "Taz", "Smiley", "Big Man", "Uncle", "Kaz", "Dee", "Maz", "Bash", "Razor", "Tiny",
    "Chef", "Sparky", "Ace", "Prince", "Rocky", "Shadow", "Snowy", "Ginge", "Kingy", "Bones",
    "Skinny", "Dubs", "Moley",
];

/// Full names of well-known public figures that random combination of the
/// lists above (or a short form of the given name) could otherwise produce;
/// such a draw is made again.
pub const AVOID_FULL_NAMES: &[&str] = &[
    "Kyle Walker",
    "Luke Evans",
    "Tommy Robinson",
    "Sam Smith",
    "Mo Farah",
    "Mohammed Farah",
    "Mohamed Farah",
];

/// Whether a full name (or its short form) is one never to produce.
pub fn is_avoided(given: &str, family: &str) -> bool {
    let full = format!("{given} {family}");
    let short = nickname_of(given).map(|n| format!("{n} {family}"));
    AVOID_FULL_NAMES
        .iter()
        .any(|a| *a == full || short.as_deref() == Some(a))
}

/// Towns of the fictional borough of Northshire, each with its postcode district.
pub const TOWNS: &[(&str, &str)] = &[
    ("Northshire", "NS1"),
    ("Easthaven", "NS2"),
    ("Millbrook", "NS3"),
    ("Kestrel Green", "NS4"),
    ("Hollowmere", "NS5"),
    ("Ashcombe Vale", "NS6"),
    ("Brackenford", "NS7"),
    ("Wrenfield", "NS8"),
];

/// First words of invented street names.
pub const STREET_STEMS: &[&str] = &[
    "Mill",
    "Station",
    "Church",
    "Victoria",
    "Albert",
    "Queens",
    "Kings",
    "Park",
    "Chapel",
    "Moor",
    "Ferncliffe",
    "Heather",
    "Larkspur",
    "Willowbank",
    "Cobden",
    "Ashgrove",
    "Brunswick",
    "Coronation",
    "Elmtree",
    "Foundry",
    "Granary",
    "Hawthorn",
    "Kilnhurst",
    "Marlowe",
    "Orchard",
    "Pennine",
    "Rosehill",
    "Tannery",
    "Weaver",
    "Wharf",
];

/// Street types, with the abbreviation records often use.
pub const STREET_TYPES: &[(&str, &str)] = &[
    ("Road", "Rd"),
    ("Street", "St"),
    ("Lane", "Ln"),
    ("Avenue", "Ave"),
    ("Close", "Cl"),
    ("Drive", "Dr"),
    ("Crescent", "Cres"),
    ("Terrace", "Terr"),
    ("Grove", "Gr"),
];

/// Words for invented school names.
pub const SCHOOL_STEMS: &[&str] = &[
    "Oakfield",
    "Riverside",
    "Hillcrest",
    "Northgate",
    "Meadowbank",
    "Ashcombe",
    "Brackenford",
    "Kestrel",
    "Wrenfield",
    "Hollowmere",
    "Easthaven",
    "Millbrook",
    "St Aldric's",
    "St Wilfrid's",
    "Longmoor",
    "Fernside",
    "Castlebrook",
    "Highfield",
    "Beacon",
    "Greystone",
];

pub const SCHOOL_KINDS: &[&str] = &[
    "Academy",
    "High School",
    "School",
    "Community College",
    "Secondary School",
];

/// Invented business names: first words.
pub const BUSINESS_ADJECTIVES: &[&str] = &[
    "Golden", "Royal", "Star", "Silver", "Lucky", "Sunrise", "Crown", "Paradise", "Express",
    "Metro", "Eastern", "Northern", "Diamond", "Premier", "Supreme", "Jolly",
];

pub const TAKEAWAY_NOUNS: &[&str] = &[
    "Spoon",
    "Grill",
    "Fryer",
    "Pizza",
    "Kebab House",
    "Chicken",
    "Wok",
    "Plaice",
    "Balti",
    "Burger Bar",
];

pub const VEHICLE_MODELS: &[(&str, &str)] = &[
    ("Toyota", "Prius"),
    ("Skoda", "Octavia"),
    ("Volkswagen", "Golf"),
    ("BMW", "3 Series"),
    ("Vauxhall", "Astra"),
    ("Ford", "Focus"),
    ("Mercedes-Benz", "C-Class"),
    ("Audi", "A4"),
    ("Vauxhall", "Corsa"),
    ("Ford", "Galaxy"),
    ("Toyota", "Auris"),
    ("Hyundai", "i30"),
];

pub const COLOURS: &[&str] = &[
    "silver",
    "black",
    "white",
    "grey",
    "blue",
    "red",
    "dark blue",
];

/// Letters used in registrations (UK plates leave out I, Q and Z in the random part).
pub const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNOPRSTUVWXY";

/// Parks, allotments and other open places.
pub const PARKS: &[&str] = &[
    "Riverside Park",
    "Victoria Park",
    "Kestrel Fields",
    "Millbrook Recreation Ground",
    "Hollowmere Woods",
    "Ashcombe Park",
    "Canal Towpath",
    "Station Car Park",
];

pub const ALLOTMENTS: &[&str] = &[
    "Foundry Lane Allotments",
    "Brackenford Allotments",
    "Wharf Street Allotments",
];

pub const HOTELS: &[&str] = &[
    "The Larkspur Lodge",
    "Riverside Guest House",
    "Northshire Travel Inn",
    "The Crown Hotel",
    "Easthaven Motor Lodge",
    "The Beacon Hotel",
];

pub const CAR_WASH_NAMES: &[&str] = &[
    "Sparkle Hand Car Wash",
    "Express Valeting",
    "Shine On Car Wash",
    "Northshire Hand Wash",
];

pub const TAXI_FIRM_NAMES: &[&str] = &[
    "Easthaven Cars",
    "Star Taxis",
    "Northshire Private Hire",
    "Premier Cars",
    "Metro Taxis",
    "Crown Cars",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variant_groups_and_nicknames_are_well_formed() {
        for g in VARIANTS {
            assert!(g.len() >= 2, "{g:?}");
        }
        assert!(variants_of("Mohammed").contains(&"Muhammad"));
        assert!(variants_of("Katie").contains(&"Katy"));
        assert!(variants_of("Smith").is_empty());
        assert_eq!(nickname_of("Rebecca"), Some("Becky"));
        assert_eq!(nickname_of("Smith"), None);
    }

    #[test]
    fn every_tradition_has_names() {
        for g in OnsEthnicity::ALL {
            for roll in [0.0, 0.3, 0.6, 0.9] {
                let t = tradition(*g, roll);
                assert!(!t.female.is_empty() && !t.male.is_empty() && !t.family.is_empty());
            }
        }
    }
}
