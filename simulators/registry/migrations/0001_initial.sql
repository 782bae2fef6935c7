-- The registry/repository schema, version 1. One logical schema for SQLite and PostgreSQL: the store
-- replaces {{ID}} (an auto-generated integer primary key), {{BIGINT}} and {{BLOB}} per dialect.
-- Every registry object keeps its ebRIM XML as registered (xml) beside the columns the stored queries
-- filter on; multi-valued attributes live in child tables keyed by the owner's integer id.

CREATE TABLE submission_set (
    id {{ID}},
    entry_uuid TEXT NOT NULL,
    unique_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    source_id TEXT,
    submission_time TEXT,
    content_type_code TEXT,
    status TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    xml TEXT NOT NULL,
    CONSTRAINT submission_set_entry_uuid UNIQUE (entry_uuid),
    CONSTRAINT submission_set_unique_id UNIQUE (unique_id)
);
CREATE INDEX submission_set_patient ON submission_set (patient_id, status);

CREATE TABLE ss_author (
    ss_id {{BIGINT}} NOT NULL REFERENCES submission_set (id),
    person TEXT NOT NULL
);
CREATE INDEX ss_author_ss ON ss_author (ss_id);

CREATE TABLE document_entry (
    id {{ID}},
    entry_uuid TEXT NOT NULL,
    lid TEXT NOT NULL,
    version INTEGER NOT NULL,
    unique_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    status TEXT NOT NULL,
    object_type TEXT NOT NULL,
    mime_type TEXT,
    class_code TEXT,
    type_code TEXT,
    format_code TEXT,
    practice_setting_code TEXT,
    healthcare_facility_type_code TEXT,
    creation_time TEXT,
    service_start_time TEXT,
    service_stop_time TEXT,
    hash TEXT,
    size {{BIGINT}},
    repository_unique_id TEXT,
    uri TEXT,
    registered_at TEXT NOT NULL,
    xml TEXT NOT NULL,
    CONSTRAINT document_entry_entry_uuid UNIQUE (entry_uuid),
    CONSTRAINT document_entry_lid_version UNIQUE (lid, version),
    CONSTRAINT document_entry_unique_id_version UNIQUE (unique_id, version)
);
CREATE INDEX document_entry_patient ON document_entry (patient_id, status, object_type);

-- eventCodeList: scheme_key is the coding scheme with the CI-SIS JDV OIDs folded onto their code systems
-- (1.2.250.1.213.1.1.5.618 -> DCM 1.2.840.10008.2.16.4, 1.2.250.1.213.1.1.5.695 -> SNOMED CT).
CREATE TABLE de_event_code (
    entry_id {{BIGINT}} NOT NULL REFERENCES document_entry (id),
    code TEXT NOT NULL,
    scheme_key TEXT NOT NULL
);
CREATE INDEX de_event_code_entry ON de_event_code (entry_id, code, scheme_key);

CREATE TABLE de_confidentiality_code (
    entry_id {{BIGINT}} NOT NULL REFERENCES document_entry (id),
    code TEXT NOT NULL,
    scheme TEXT NOT NULL
);
CREATE INDEX de_confidentiality_code_entry ON de_confidentiality_code (entry_id, code, scheme);

-- referenceIdList (CXi): the whole value and its id (CX.1), assigning authority (CX.4 universal id) and type (CX.5).
CREATE TABLE de_reference_id (
    entry_id {{BIGINT}} NOT NULL REFERENCES document_entry (id),
    value TEXT NOT NULL,
    ref_id TEXT NOT NULL,
    ref_authority TEXT,
    ref_type TEXT NOT NULL
);
CREATE INDEX de_reference_id_entry ON de_reference_id (entry_id, ref_id, ref_type);
CREATE INDEX de_reference_id_value ON de_reference_id (ref_id, ref_type);

CREATE TABLE de_author (
    entry_id {{BIGINT}} NOT NULL REFERENCES document_entry (id),
    person TEXT NOT NULL
);
CREATE INDEX de_author_entry ON de_author (entry_id);

CREATE TABLE folder (
    id {{ID}},
    entry_uuid TEXT NOT NULL,
    lid TEXT NOT NULL,
    version INTEGER NOT NULL,
    unique_id TEXT NOT NULL,
    patient_id TEXT NOT NULL,
    status TEXT NOT NULL,
    last_update_time TEXT,
    registered_at TEXT NOT NULL,
    xml TEXT NOT NULL,
    CONSTRAINT folder_entry_uuid UNIQUE (entry_uuid),
    CONSTRAINT folder_lid_version UNIQUE (lid, version),
    CONSTRAINT folder_unique_id_version UNIQUE (unique_id, version)
);
CREATE INDEX folder_patient ON folder (patient_id, status);

CREATE TABLE folder_code (
    folder_id {{BIGINT}} NOT NULL REFERENCES folder (id),
    code TEXT NOT NULL,
    scheme TEXT NOT NULL
);
CREATE INDEX folder_code_folder ON folder_code (folder_id, code, scheme);

CREATE TABLE association (
    id {{ID}},
    entry_uuid TEXT NOT NULL,
    type TEXT NOT NULL,
    source_uuid TEXT NOT NULL,
    target_uuid TEXT NOT NULL,
    status TEXT NOT NULL,
    registered_at TEXT NOT NULL,
    xml TEXT NOT NULL,
    CONSTRAINT association_entry_uuid UNIQUE (entry_uuid)
);
CREATE INDEX association_source ON association (source_uuid, type);
CREATE INDEX association_target ON association (target_uuid, type);

-- The repository: one row per document (the versions of a DocumentEntry share it).
CREATE TABLE document (
    unique_id TEXT NOT NULL,
    mime_type TEXT,
    hash TEXT NOT NULL,
    size {{BIGINT}} NOT NULL,
    content {{BLOB}} NOT NULL,
    stored_at TEXT NOT NULL,
    CONSTRAINT document_unique_id PRIMARY KEY (unique_id)
);
