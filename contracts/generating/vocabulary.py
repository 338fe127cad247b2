"""Words the generator builds names and titles from.

Titles follow the way procuring entities really word their notices ("Supply and Delivery
of ...", "Construction of ..., Brgy. ...", "Procurement of Drugs and Medicines ...") so that
keyword chips such as "road", "supply" or "medicines" find what a user expects. None of these
strings may contain a tab, newline or backslash: they go into COPY text unescaped.
"""

from __future__ import annotations

# Word lists read better packed than one entry per line.
# fmt: off
SURNAMES = (
    "SANTOS", "REYES", "CRUZ", "BAUTISTA", "OCAMPO", "GARCIA", "MENDOZA", "TORRES", "TOMAS",
    "ANDRADA", "CASTILLO", "FLORES", "VILLANUEVA", "RAMOS", "CASTRO", "RIVERA", "AQUINO",
    "NAVARRO", "SALAZAR", "MERCADO", "AGUILAR", "DOMINGO", "DELA CRUZ", "DE LEON", "DE GUZMAN",
    "DEL ROSARIO", "GONZALES", "LOPEZ", "HERNANDEZ", "PEREZ", "RAMIREZ", "SORIANO", "VALDEZ",
    "FERNANDEZ", "GUTIERREZ", "PASCUAL", "SANTIAGO", "FRANCISCO", "MANALO", "LIM", "TAN", "CO",
    "SY", "UY", "GO", "ONG", "CHUA", "YAP", "DIZON", "MAGBANUA", "MACARAEG", "PANGANIBAN",
    "DIMACULANGAN", "LACSON", "MANGUBAT", "TOLENTINO", "SARMIENTO", "PINEDA", "GALANG",
    "LACSAMANA", "QUIAMBAO", "BERNARDO", "MARQUEZ", "JAVIER", "IGNACIO", "EVANGELISTA", "SAMSON",
    "ROBLES", "CORPUZ", "ESPIRITU", "CABRERA", "CORTEZ", "ESTRADA", "PADILLA", "MANALASTAS",
    "ALCANTARA", "SISON", "VALENZUELA", "VERGARA", "MIRANDA", "LEGASPI", "AGUSTIN",
    "BUENAVENTURA", "CABALLERO", "DUMALAGAN", "ESGUERRA", "FAJARDO", "GATCHALIAN", "ILAGAN",
    "JIMENEZ", "KATIGBAK", "LAUREL", "NATIVIDAD", "OLIVARES", "PANGILINAN", "QUIZON", "ROXAS",
    "TIONGSON", "UMALI", "VELASCO", "YBAÑEZ", "ZAMORA", "ABAD", "BACANI", "CAJUCOM", "DACANAY",
    "EUSEBIO", "GAMBOA", "HILARIO", "INOCENCIO", "LAGMAN", "NEPOMUCENO", "ORDOÑEZ", "PALMA",
    "QUIÑONES", "ROSALES", "SEVILLA", "TUAZON", "VASQUEZ", "YULO", "ZULUETA", "ABELLA", "BALAGTAS",
    "CATACUTAN", "DAGOHOY", "ENRIQUEZ", "FUENTES", "GALVEZ", "HIPOLITO", "LABRADOR", "MACASAET",
    "OBLENA", "PACQUIAO", "RABAGO", "SALVADOR", "TABLANTE", "VILLAFUERTE", "ALVAREZ", "BELMONTE",
    "CAPISTRANO", "DAVID", "ESCANO", "GERONIMO", "LUMBAO", "MONTEMAYOR", "NAVAL", "PAREDES",
)

FIRST_NAMES = (
    "JUAN", "JOSE", "MARIA", "ANA", "PEDRO", "ROLANDO", "ROMEO", "EDGARDO", "ERNESTO", "RODRIGO",
    "JOCELYN", "MARILOU", "ROSALIE", "FERDINAND", "ARNEL", "JUNREY", "JOVY", "MARICEL", "LEONORA",
    "DANILO", "RENATO", "VIRGILIO", "ROGELIO", "NORBERTO", "EDUARDO", "BENJAMIN", "CRISTINA",
    "ELENA", "TERESITA", "LORNA", "RICARDO", "ALFREDO", "REYNALDO", "MANUEL", "ANTONIO", "RAMON",
    "CARMELITA", "JENNIFER", "MICHELLE", "RONALD", "JERRY", "NESTOR", "WILFREDO", "GLORIA",
)

BRAND_WORDS = (
    "GOLDEN HARVEST", "SILVERLINE", "NORTHPOINT", "EVERGREEN", "BRIGHT STAR", "HIGHLAND", "ISLAND",
    "METRO", "PRIME", "PREMIER", "UNIFIED", "UNITED", "ALLIED", "TRINITY", "HOLY SPIRIT",
    "ST. JUDE", "STO. NIÑO", "SAN ISIDRO", "MABUHAY", "BAYANIHAN", "MAHARLIKA", "LUZON", "VISAYAN",
    "MINDANAO", "PINOY", "AGILA", "BITUIN", "DAKILA", "MASAGANA", "TAGUMPAY", "LAKAS", "LIKHA",
    "SINAG", "PERLAS", "DIAMOND", "EMERALD", "SAPPHIRE", "CROWN", "ROYAL", "APEX", "ZENITH",
    "VERTEX", "TITAN", "ATLAS", "ORION", "PHOENIX", "SUMMIT", "PIONEER", "FRONTIER", "GATEWAY",
    "HORIZON", "LEGACY", "LIBERTY", "HARMONY", "UNITY", "FAITH", "GRACE", "GLORY", "VICTORY",
    "GENESIS", "BLESSED", "JIREH", "SHEKINAH", "GOOD SHEPHERD", "SOUTHERN CROSS", "TRIPLE A",
    "TRIPLE J", "DOUBLE R", "FIVE STAR", "FIRST CLASS", "NEW ERA", "MEGA", "ULTRA", "GREENFIELD",
    "BLUE WAVE", "RED ROCK", "SUNRISE", "PACIFIC", "ORIENT", "GOLDSTAR", "NORTHERN", "EASTERN",
)

INITIALS = (
    "J.R.", "RJ", "JMC", "AMG", "R.T.", "JBL", "MGS", "A.B.", "E.C.", "JDS", "RMB", "C.A.",
    "JLC", "MJ", "EJ", "ARC", "KCL", "D.M.", "RGV", "JCM", "M.L.", "FDC", "GMA", "LRT",
)

# A contractor name is an owner part and a line of business, each drawn by weight:
# "DELA CRUZ" + "CONSTRUCTION AND SUPPLY". The owner parts use S, S2 (surnames), F (a first
# name), W, W2 (brand words) and I (initials); together they allow well over a million
# distinct names, so a full-scale pool of ~127,000 is drawn without exhausting them.
CONTRACTOR_OWNERS = (
    (14, "{S}"), (22, "{F} {S}"), (10, "{W}"), (8, "{I} {S}"), (12, "{S}-{S2}"), (8, "{W} {W2}"),
    (4, "{I} {W}"), (3, "{S} AND SONS"), (3, "{F} AND {F2} {S}"),
)
CONTRACTOR_BUSINESS_LINES = (
    (12, "CONSTRUCTION AND SUPPLY"), (8, "CONSTRUCTION"), (3, "BUILDERS"),
    (2, "BUILDERS AND DEVELOPERS, INC."), (10, "TRADING"), (3, "TRADING AND CONSTRUCTION"),
    (10, "ENTERPRISES"), (5, "CORPORATION"), (2, "DEVELOPMENT CORPORATION"), (2, "INDUSTRIAL CORPORATION"),
    (7, "GENERAL MERCHANDISE"), (3, "MEDICAL SUPPLIES AND EQUIPMENT"), (2, "PHARMA DISTRIBUTOR, INC."),
    (2, "DRUGSTORE"), (2, "OFFICE SUPPLIES"), (2, "BOOKSTORE AND SCHOOL SUPPLIES"), (3, "CATERING SERVICES"),
    (2, "COMPUTER SYSTEMS"), (1, "IT SOLUTIONS, INC."), (3, "HARDWARE"),
    (2, "HARDWARE AND CONSTRUCTION SUPPLY"), (1, "MOTOR WORKS"), (1, "AUTO SUPPLY"), (1, "PETROLEUM"),
    (1, "GASOLINE STATION"), (1, "PRINTING PRESS"), (1, "AGRI-VENTURES"), (1, "SECURITY AGENCY, INC."),
    (1, "FOOD PRODUCTS"), (2, "ENGINEERING SERVICES"), (1, "MARKETING"), (2, "GENERAL CONTRACTOR"),
    (1, "BUILDERS AND SUPPLY"),
)

BARANGAYS = (
    "Poblacion", "San Isidro", "San Jose", "San Roque", "Santo Niño", "San Antonio", "Bagong Silang",
    "Mabini", "Rizal", "Malinao", "Maligaya", "Santa Cruz", "San Vicente", "Bagumbayan", "Magsaysay",
    "Del Pilar", "Tabuc", "Ilaya", "Ibaba", "Cabatangan", "Bucana", "Calumpang", "Dayap", "Lumbangan",
    "Pag-asa", "Kalayaan", "Tagumpay", "Mabuhay", "Masagana", "Bagong Pag-asa", "Centro", "Libertad",
    "Buenavista", "Villa Verde", "Balite", "Caingin", "Tambo", "Sampaloc", "Dao", "Kamuning", "Narra",
    "Molave", "Acacia", "Lawaan", "Mangga", "Santol", "Ipil", "Banaba", "Malabanan", "Lourdes",
    "San Miguel", "San Pedro", "San Rafael", "Santa Maria", "Santa Rosa", "Talisay", "Tibag",
    "Upper Bicutan", "Lower Bicutan", "Maybunga", "Pinagbuhatan", "Canlubang", "Lahug", "Mabolo",
    "Tisa", "Guadalupe", "Bacayan", "Pardo", "Agdao", "Buhangin", "Toril", "Calinan", "Tugbok",
)

OFFICES = (
    "the Municipal Health Office", "the Provincial Engineering Office", "the City Hall",
    "the Regional Office", "the Schools Division Office", "Various Offices", "the Rural Health Unit",
    "the Provincial Hospital", "the Municipal Agriculture Office", "the Police Station",
    "the Sangguniang Bayan", "the District Engineering Office", "the Municipal Social Welfare Office",
    "the Provincial Capitol", "the City Disaster Risk Reduction and Management Office",
    "the Medical Center", "the Division Office", "the Municipal Treasurer's Office",
)

EVENTS = (
    "Municipal Fiesta Celebration", "Barangay Health Workers Training", "Year-End Planning Workshop",
    "Nutrition Month Celebration", "Seminar on Gender and Development",
    "Disaster Risk Reduction Training", "Regional Athletic Meet", "Quarterly Board Meeting",
    "Graduation Ceremony", "Orientation on the Government Procurement Reform Act",
    "Senior Citizens' Day", "Training of Trainers", "Strategic Planning Workshop",
    "Pre-Implementation Conference", "Values Formation Seminar",
)

PROGRAMS = (
    "Rice Program", "Corn Program", "High-Value Crops Development Program", "National Greening Program",
    "Rehabilitation of Typhoon-Affected Farms", "Supplementary Feeding Program",
    "Sustainable Livelihood Program", "Expanded Program on Immunization",
)

QUARTERS = ("1st", "2nd", "3rd", "4th")

# Each family: (title templates, items). Templates use {item}, {brgy}, {office}, {event},
# {program}, {year}, {qtr}, {n} and {category} (the business category's own name).
CIVIL_WORKS_ITEMS = (
    "Farm-to-Market Road", "Barangay Road", "Multi-Purpose Building", "Barangay Health Station",
    "Day Care Center", "Two-Storey Four-Classroom School Building", "Covered Court",
    "Flood Control Structure", "Drainage Canal", "Level II Water System", "Box Culvert", "Footbridge",
    "Seawall", "Slope Protection", "Public Market", "Evacuation Center", "Solar Dryer",
    "Perimeter Fence", "Irrigation Canal", "Bridge Approach", "Barangay Hall", "Rural Health Unit",
    "Road Shoulder", "Municipal Road", "Provincial Road", "Access Road",
)

VEHICLES = (
    "Ambulance", "Pick-Up Truck 4x4", "Dump Truck", "Service Vehicle (SUV)", "Motorcycle",
    "Patrol Car", "Backhoe Loader", "Fire Truck", "Mini Bus", "Garbage Compactor Truck",
)

FAMILIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "civil_works": (
        (
            "Construction of {item}, Brgy. {brgy}",
            "Construction of Farm-to-Market Road, Brgy. {brgy}",
            "Concreting of Barangay Road, Purok {n}, Brgy. {brgy}",
            "Rehabilitation of {item}, Brgy. {brgy}",
            "Improvement of {item}, Brgy. {brgy}",
            "Repair and Improvement of {item}, Brgy. {brgy}",
            "Road Widening and Concreting along Brgy. {brgy} Road Section",
            "Construction of {item} (Phase {n}), Brgy. {brgy}",
        ),
        CIVIL_WORKS_ITEMS,
    ),
    "construction_materials": (
        (
            "Supply and Delivery of Construction Materials for the {item}, Brgy. {brgy}",
            "Procurement of Construction Materials for the Repair of {item}, Brgy. {brgy}",
            "Purchase of Aggregates and Cement for the {item}, Brgy. {brgy}",
        ),
        CIVIL_WORKS_ITEMS,
    ),
    "hardware": (
        (
            "Supply and Delivery of {item} for {office}",
            "Procurement of {item} ({qtr} Quarter, CY {year})",
            "Purchase of {item} for the Repair of Barangay Hall, Brgy. {brgy}",
        ),
        (
            "Hardware Supplies", "Electrical Supplies", "Plumbing Materials", "Paints and Painting Materials",
            "Lumber and Plywood", "GI Sheets and Roofing Materials", "Water Service Connection Materials",
        ),
    ),
    "office_supplies": (
        (
            "Supply and Delivery of Office Supplies for {office}",
            "Procurement of Common-Use Office Supplies ({qtr} Quarter, CY {year})",
            "Supply and Delivery of {item} for {office}",
            "Purchase of {item} ({qtr} Quarter, CY {year})",
        ),
        (
            "Bond Paper (A4 and Long)", "Ink Cartridges and Toners", "Office Supplies and Materials",
            "Record Books and Folders", "Ballpens and Markers", "School Supplies", "Learning Materials",
        ),
    ),
    "office_equipment": (
        ("Supply and Delivery of {item} for {office}", "Procurement of {item}"),
        (
            "Photocopier Machine", "Airconditioning Units", "Steel Filing Cabinets", "Paper Shredder",
            "Multimedia Projector", "Biometric Attendance System", "Electric Fans",
        ),
    ),
    "medicines": (
        (
            "Procurement of Drugs and Medicines for {office}",
            "Supply and Delivery of Medicines ({qtr} Quarter, CY {year})",
            "Procurement of {item}",
            "Supply and Delivery of {item} for {office}",
            "Procurement of Medicines for the {program}",
        ),
        (
            "Paracetamol 500 mg Tablets", "Amoxicillin 500 mg Capsules", "Anti-TB Medicines",
            "Anti-Rabies Vaccines", "Insulin", "Losartan 50 mg Tablets", "Metformin 500 mg Tablets",
            "Oral Rehydration Salts", "Intravenous Fluids", "Cefuroxime 750 mg Vials", "Veterinary Medicines",
        ),
    ),
    "medical_supplies": (
        (
            "Supply and Delivery of Medical Supplies for {office}",
            "Procurement of {item} ({qtr} Quarter, CY {year})",
            "Supply and Delivery of {item} for {office}",
        ),
        (
            "Laboratory Reagents", "Surgical Gloves", "Disposable Syringes", "Face Masks and PPE",
            "X-Ray Films", "Hemodialysis Supplies", "Medical Oxygen", "Laboratory Supplies",
        ),
    ),
    "medical_equipment": (
        ("Procurement of {item} for {office}", "Supply, Delivery and Installation of {item}"),
        (
            "Hospital Beds", "Patient Monitors", "Ultrasound Machine", "Mechanical Ventilator",
            "Dental Chair", "Autoclave", "Digital X-Ray Machine", "Infusion Pumps", "Hematology Analyzer",
        ),
    ),
    "it": (
        (
            "Procurement of {item} for {office}",
            "Supply and Delivery of ICT Equipment ({item})",
            "Supply, Delivery and Installation of {item}",
        ),
        (
            "Desktop Computers", "Laptop Computers", "Network Switches", "Uninterruptible Power Supply Units",
            "Multifunction Printers", "Servers and Storage", "Software Licenses", "Tablet Computers",
            "CCTV System", "Structured Cabling",
        ),
    ),
    "food": (
        (
            "Supply and Delivery of Food Commodities for the {program}",
            "Procurement of {item} for the {program}",
            "Supply and Delivery of {item} for {office}",
        ),
        (
            "Rice", "Canned Goods", "Fresh Vegetables", "Family Food Packs", "Powdered Milk",
            "Fresh Fish and Meat", "Noodles and Canned Sardines", "Bottled Water",
        ),
    ),
    "catering": (
        ("Catering Services for the {event}", "Provision of Meals and Snacks for the {event}"),
        EVENTS,
    ),
    "lodging": (
        ("Board and Lodging for the {event}", "Venue, Accommodation and Meals for the {event}",
         "Lease of Venue for the {event}"),
        EVENTS,
    ),
    "fuel": (
        (
            "Supply and Delivery of Fuel and Lubricants for {office} Vehicles",
            "Procurement of {item} ({qtr} Quarter, CY {year})",
        ),
        ("Diesel Fuel", "Unleaded Gasoline", "Engine Oil and Lubricants", "Liquefied Petroleum Gas"),
    ),
    "vehicles": (
        ("Purchase of One (1) Unit {item}", "Procurement of {item} for {office}"),
        VEHICLES,
    ),
    "vehicle_parts": (
        (
            "Supply and Delivery of Spare Parts for {item}",
            "Repair and Maintenance of {item}",
            "Procurement of Tires and Batteries for {item}",
        ),
        VEHICLES,
    ),
    "printing": (
        ("Printing of {item}", "Printing and Delivery of {item} for {office}"),
        (
            "Official Ballots", "Training Manuals", "Information, Education and Communication Materials",
            "Accountable Forms", "Annual Report", "Certificates and IDs", "Tarpaulins and Streamers",
        ),
    ),
    "furniture": (
        ("Supply and Delivery of {item} for {office}", "Procurement of {item}"),
        (
            "Office Tables and Chairs", "Steel Filing Cabinets", "School Armchairs", "Monobloc Chairs",
            "Conference Table", "Hospital Furniture", "Library Shelves",
        ),
    ),
    "agriculture": (
        ("Supply and Delivery of {item} for the {program}", "Procurement of {item}, CY {year}"),
        (
            "Certified Rice Seeds", "Hybrid Corn Seeds", "Vegetable Seeds", "Coconut Seedlings",
            "Fruit-Bearing Tree Seedlings", "Organic Fertilizer", "Urea Fertilizer (46-0-0)", "Animal Feeds",
            "Swine Breeders", "Fingerlings",
        ),
    ),
    "agri_machinery": (
        ("Supply and Delivery of {item} for Farmers' Associations", "Procurement of {item}"),
        (
            "Hand Tractors", "Rice Threshers", "Water Pumps", "Mechanical Rice Dryer", "Four-Wheel Tractor",
            "Corn Sheller", "Combine Harvester",
        ),
    ),
    "janitorial": (
        (
            "Supply and Delivery of Janitorial Supplies for {office}",
            "Janitorial Services for {office}, CY {year}",
        ),
        ("Janitorial Supplies",),
    ),
    "security": (
        ("Security Services for {office}, CY {year}", "Procurement of Security Guard Services ({n} Guards)"),
        ("Security Services",),
    ),
    "consulting": (
        ("Consulting Services for the {item}", "Procurement of Consulting Services: {item}"),
        (
            "Detailed Engineering Design of Flood Control Projects",
            "Feasibility Study of the Proposed Public Market",
            "Updating of the Comprehensive Land Use Plan", "Preparation of Hazard Maps",
            "Organizational Development Study", "Project Management Consultancy",
            "Environmental Impact Assessment", "Topographic Survey of Road Projects",
        ),
    ),
    "repair_services": (
        ("Repair and Maintenance of {item}", "Preventive Maintenance of {item} for {office}"),
        (
            "Airconditioning Units", "Generator Sets", "Elevators", "Office Building", "Hospital Equipment",
            "Photocopiers", "Water Pumps",
        ),
    ),
    "services": (
        ("{item} for {office}, CY {year}", "Procurement of {item} ({qtr} Quarter, CY {year})"),
        (
            "Hauling and Trucking Services", "Manpower Services", "Garbage Collection Services",
            "Messengerial Services", "Internet Services", "Laundry Services",
        ),
    ),
    "generic": (
        (
            "Supply and Delivery of {category}",
            "Procurement of {category} for {office}",
            "Purchase of {category} ({qtr} Quarter, CY {year})",
        ),
        ("",),
    ),
}

# First match wins (lower-case substring of the business category name → title family).
CATEGORY_FAMILY_RULES = (
    ("construction projects", "civil_works"),
    ("general contractor", "civil_works"),
    ("well drilling", "civil_works"),
    ("sub-station", "civil_works"),
    ("horizontal directional", "civil_works"),
    ("construction materials", "construction_materials"),
    ("hardware", "hardware"),
    ("water service", "hardware"),
    ("electrical", "hardware"),
    ("drugs", "medicines"),
    ("veterinary", "medicines"),
    ("medical equipment services", "repair_services"),
    ("medical supplies", "medical_supplies"),
    ("laboratory", "medical_supplies"),
    ("medical equipment", "medical_equipment"),
    ("medical and dental", "medical_equipment"),
    ("radiological", "medical_equipment"),
    ("office supplies", "office_supplies"),
    ("office equipment supplies", "office_supplies"),
    ("printing supplies", "office_supplies"),
    ("paper materials", "office_supplies"),
    ("educational materials", "office_supplies"),
    ("office equipment", "office_equipment"),
    ("appliances", "office_equipment"),
    ("information technology", "it"),
    ("systems integration", "it"),
    ("computer", "it"),
    ("structured cabling", "it"),
    ("food stuff", "food"),
    ("grocery", "food"),
    ("packed food", "food"),
    ("dairy", "food"),
    ("catering", "catering"),
    ("travel, food", "catering"),
    ("events management", "catering"),
    ("hotel", "lodging"),
    ("lease and rental", "lodging"),
    ("fuels", "fuel"),
    ("vehicle parts", "vehicle_parts"),
    ("vehicle repair", "vehicle_parts"),
    ("vehicles", "vehicles"),
    ("printing services", "printing"),
    ("reproduction", "printing"),
    ("furniture", "furniture"),
    ("fixtures", "furniture"),
    ("agricultural machinery", "agri_machinery"),
    ("agricultural", "agriculture"),
    ("fertilizers", "agriculture"),
    ("animal feeds", "agriculture"),
    ("live animals", "agriculture"),
    ("janitorial", "janitorial"),
    ("security services", "security"),
    ("consulting", "consulting"),
    ("construction management", "consulting"),
    ("architectural", "consulting"),
    ("general engineering", "consulting"),
    ("surveying services", "consulting"),
    ("repair and maintenance", "repair_services"),
    ("airconditioning maintenance", "repair_services"),
)

# Whole-name matches, checked before the substring rules.
CATEGORY_FAMILY_EXACT = {"services": "services"}

# PhilGEPS "Classification" by business category (anything else is "Goods").
CIVIL_WORKS_CATEGORIES = frozenset(
    {"Construction Projects", "General Contractor", "Well Drilling and Construction Services",
     "Sub-station Contractors", "Horizontal Directional Drilling"}
)
CONSULTING_CATEGORIES = frozenset(
    {"Consulting Services", "Construction Management Services", "Architectural Design",
     "General Engineering Services", "Surveying Services", "Market Research Services"}
)
# fmt: on
