"""ebRIM 3.0 vocabulary of IHE XDS: namespaces, classification and identification schemes, slot names.

Source: IHE ITI TF-3 4.2.5 (the UUIDs), as recorded in reference xds-facts §2.
"""

from xdsi.namespaces import LCM, QUERY, RIM, RS, XDSB, XDSI

NSMAP = {"rim": RIM, "rs": RS, "lcm": LCM, "query": QUERY, "xdsb": XDSB, "xdsi": XDSI}

# DocumentEntry classification schemes
DE_AUTHOR = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"
DE_CLASS_CODE = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a"
DE_CONFIDENTIALITY_CODE = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f"
DE_EVENT_CODE = "urn:uuid:2c6b8cb7-8b2a-4051-b291-b1ae6a575ef4"
DE_FORMAT_CODE = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d"
DE_HEALTHCARE_FACILITY_TYPE_CODE = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1"
DE_PRACTICE_SETTING_CODE = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead"
DE_TYPE_CODE = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983"
DE_LIMITED_METADATA = "urn:uuid:ab9b591b-83ab-4d03-8f5d-f93b1fb92e85"
DE_PATIENT_ID = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427"
DE_UNIQUE_ID = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab"

# SubmissionSet
SS_AUTHOR = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d"
SS_CONTENT_TYPE_CODE = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500"
SS_NODE = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd"
SS_LIMITED_METADATA = "urn:uuid:5003a9db-8d8d-49e6-bf0c-990e34ac7707"
SS_PATIENT_ID = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446"
SS_SOURCE_ID = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832"
SS_UNIQUE_ID = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8"

# Folder
FOLDER_NODE = "urn:uuid:d9d542f3-6cc4-48b6-8870-ea235fbc94c2"
FOLDER_CODE_LIST = "urn:uuid:1ba97051-7806-41a8-a48b-8fce7af683c5"
FOLDER_LIMITED_METADATA = "urn:uuid:2c144a76-29a9-4b7c-af54-b25409fe7d03"
FOLDER_PATIENT_ID = "urn:uuid:f64ffdf0-4b97-4e06-b79f-a52b38ec2f8a"
FOLDER_UNIQUE_ID = "urn:uuid:75df8f67-9973-4fbe-a900-df66cefecc5a"

ASSOCIATION_DOCUMENTATION = "urn:uuid:abd807a3-4432-4053-87b4-fd82c643d1f3"

REFERENCE_ID_LIST = "urn:ihe:iti:xds:2013:referenceIdList"

OBJECT_TYPE_PACKAGE = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage"
OBJECT_TYPE_ASSOCIATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association"
OBJECT_TYPE_CLASSIFICATION = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification"
OBJECT_TYPE_EXTERNAL_ID = "urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier"

# attribute name in the model -> classification scheme (coded, single-valued)
DE_SINGLE_CODES = {
    "class_code": DE_CLASS_CODE,
    "type_code": DE_TYPE_CODE,
    "format_code": DE_FORMAT_CODE,
    "healthcare_facility_type_code": DE_HEALTHCARE_FACILITY_TYPE_CODE,
    "practice_setting_code": DE_PRACTICE_SETTING_CODE,
}
DE_MULTI_CODES = {"confidentiality_codes": DE_CONFIDENTIALITY_CODE, "event_codes": DE_EVENT_CODE}

# model attribute -> slot name (single-valued slots)
DE_SINGLE_SLOTS = {
    "creation_time": "creationTime",
    "language_code": "languageCode",
    "source_patient_id": "sourcePatientId",
    "legal_authenticator": "legalAuthenticator",
    "service_start_time": "serviceStartTime",
    "service_stop_time": "serviceStopTime",
    "hash": "hash",
    "size": "size",
    "repository_unique_id": "repositoryUniqueId",
    "uri": "URI",
    "document_availability": "documentAvailability",
    "home": "homeCommunityId",
}
DE_MULTI_SLOTS = {"source_patient_info": "sourcePatientInfo", "reference_ids": REFERENCE_ID_LIST}

AUTHOR_SLOTS = {
    "person": "authorPerson",
    "institutions": "authorInstitution",
    "roles": "authorRole",
    "specialties": "authorSpecialty",
    "telecommunications": "authorTelecommunication",
}
