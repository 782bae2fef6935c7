# language: fr
# Généré à partir de features/cda/mutations.yaml (une ligne d'exemple par mutation et document de base ;
# les mutations y sont décrites) et complété à la main. Documents : « da » = notre demande (tests/fixtures/cda),
# les autres = exemples officiels IMG-DA-IMG 2024.01 (scénarios ignorés sans ../shared/corpus).
@process_img_da
Fonctionnalité: Créer une demande d'actes d'imagerie
  Le médecin demandeur crée dans son logiciel une demande d'actes d'imagerie (IMG-DA-IMG, CDA R2 niveau 3).
  Le harnais vérifie chaque ligne du tableau des données médicales du volet (§3.4.2 : cardinalité, type, jeu de
  valeurs, règles conditionnelles des commentaires), les données administratives de l'en-tête (§3.4.1) et le
  schéma CDA R2. Chaque document invalide est un document valide altéré par une mutation documentée.

  Plan du Scénario: une demande conforme ne porte aucune erreur — « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand le harnais la valide
    Alors il est reconnu comme « img-da-img »
    Et aucune erreur n'est signalée

    Exemples:
      | document   |
      | da         |
      | tep        |
      | mammo      |
      | irm        |
      | cheville   |
      | seinthorax |
      | scanner    |
      | crane      |

  Scénario: la demande porte son numéro (Order Placer Number), qui la relie au compte rendu
    Étant donné la demande d'actes d'imagerie « da »
    Alors le numéro de la demande (Order Placer Number) est « DA-2024-0001 » émis par « 1.2.250.1.999.2.1 »
    Et la demande n'a ni accession number ni Study Instance UID

  Scénario: une TEP FDG oncologie précise la fonction étudiée et l'injection de produit de contraste
    Étant donné la demande d'actes d'imagerie « tep »
    Quand le harnais la valide
    Alors aucune erreur n'est signalée
    Et le numéro de la demande (Order Placer Number) est « 984375875 » émis par « 1.2.250.1.748.12345678.12 »

  @negative
  Plan du Scénario: En-tête : les données administratives (§3.4.1) — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                        | document | règle                              |
      | entete-sans-template-dicom      | da       | IMGDA.ENTETE.TEMPLATE              |
      | entete-sans-template-dicom      | tep      | IMGDA.ENTETE.TEMPLATE              |
      | entete-code-document            | da       | IMGDA.ENTETE.CODE                  |
      | entete-code-document            | tep      | IMGDA.ENTETE.CODE                  |
      | entete-sans-demande             | da       | IMGDA.ENTETE.DEMANDE.CARD          |
      | entete-sans-demande             | tep      | IMGDA.ENTETE.DEMANDE.CARD          |
      | entete-order-placer-sans-numero | da       | IMGDA.ENTETE.ORDER_PLACER          |
      | entete-order-placer-sans-numero | tep      | IMGDA.ENTETE.ORDER_PLACER          |
      | entete-deux-medecins-traitants  | da       | IMGDA.ENTETE.MEDECIN_TRAITANT.CARD |
      | entete-deux-medecins-traitants  | tep      | IMGDA.ENTETE.MEDECIN_TRAITANT.CARD |
      | entete-medecin-traitant-anonyme | da       | IMGDA.ENTETE.MEDECIN_TRAITANT.ID   |
      | entete-medecin-traitant-anonyme | tep      | IMGDA.ENTETE.MEDECIN_TRAITANT.ID   |
      | entete-destinataire-anonyme     | da       | IMGDA.ENTETE.DESTINATAIRE.ID       |
      | entete-destinataire-anonyme     | tep      | IMGDA.ENTETE.DESTINATAIRE.ID       |
      | entete-destinataire-injoignable | da       | IMGDA.ENTETE.DESTINATAIRE.TELECOM  |
      | entete-destinataire-injoignable | tep      | IMGDA.ENTETE.DESTINATAIRE.TELECOM  |

  @negative
  Plan du Scénario: Demande d'exécution en urgence et motif de l'urgence — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                          | document | règle                      |
      | entete-urgence-en-double          | mammo    | IMGDA.ENTETE.URGENCE.CARD  |
      | entete-urgence-ajoutee-deux-fois  | da       | IMGDA.ENTETE.URGENCE.CARD  |
      | entete-urgence-sans-motif         | mammo    | IMGDA.ENTETE.URGENCE.MOTIF |
      | entete-urgence-ajoutee-sans-motif | da       | IMGDA.ENTETE.URGENCE.MOTIF |
      | urgence-acte-sans-motif           | da       | IMGDA.ACTE.URGENCE.MOTIF   |
      | urgence-acte-sans-motif           | tep      | IMGDA.ACTE.URGENCE.MOTIF   |
      | urgence-acte-hors-jdv             | da       | IMGDA.ACTE.URGENCE.VS      |
      | urgence-acte-hors-jdv             | tep      | IMGDA.ACTE.URGENCE.VS      |

  @negative
  Plan du Scénario: Sections du corps et leurs cardinalités (§3.4.2, niveau 0) — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                    | document | règle                      |
      | sans-informations-cliniques | da       | IMGDA.INFOS_CLINIQUES.CARD |
      | sans-informations-cliniques | tep      | IMGDA.INFOS_CLINIQUES.CARD |
      | sans-informations-patient   | da       | IMGDA.INFOS_PATIENT.CARD   |
      | sans-informations-patient   | tep      | IMGDA.INFOS_PATIENT.CARD   |
      | actes-en-double             | da       | IMGDA.ACTES.CARD           |
      | actes-en-double             | tep      | IMGDA.ACTES.CARD           |
      | resultats-en-double         | da       | IMGDA.RESULTATS.CARD       |
      | resultats-en-double         | tep      | IMGDA.RESULTATS.CARD       |
      | documents-en-double         | da       | IMGDA.DOCUMENTS.CARD       |
      | documents-en-double         | tep      | IMGDA.DOCUMENTS.CARD       |
      | resultats-vides             | da       | IMGDA.RESULTATS.TEXTE      |
      | resultats-vides             | tep      | IMGDA.RESULTATS.TEXTE      |
      | documents-sans-document     | da       | IMGDA.DOCUMENT_LIE.CARD    |
      | documents-sans-document     | tep      | IMGDA.DOCUMENT_LIE.CARD    |
      | document-lie-vide           | da       | IMGDA.DOCUMENT_LIE.FICHIER |
      | document-lie-vide           | tep      | IMGDA.DOCUMENT_LIE.FICHIER |

  @negative
  Plan du Scénario: Informations cliniques : justification, antécédents — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                            | document | règle                                |
      | sans-justification                  | da       | IMGDA.JUSTIFICATION.CARD             |
      | sans-justification                  | tep      | IMGDA.JUSTIFICATION.CARD             |
      | sans-historique                     | da       | IMGDA.HISTORIQUE.CARD                |
      | sans-historique                     | tep      | IMGDA.HISTORIQUE.CARD                |
      | justification-vide                  | da       | IMGDA.JUSTIFICATION.TEXTE            |
      | justification-vide                  | tep      | IMGDA.JUSTIFICATION.TEXTE            |
      | sans-antecedents-medicaux           | da       | IMGDA.ANTECEDENTS_MEDICAUX.CARD      |
      | sans-antecedents-medicaux           | tep      | IMGDA.ANTECEDENTS_MEDICAUX.CARD      |
      | sans-antecedents-chirurgicaux       | da       | IMGDA.ANTECEDENTS_CHIRURGICAUX.CARD  |
      | sans-antecedents-chirurgicaux       | tep      | IMGDA.ANTECEDENTS_CHIRURGICAUX.CARD  |
      | antecedents-medicaux-sans-texte     | da       | IMGDA.ANTECEDENTS_MEDICAUX.TEXTE     |
      | antecedents-medicaux-sans-texte     | tep      | IMGDA.ANTECEDENTS_MEDICAUX.TEXTE     |
      | antecedents-chirurgicaux-sans-texte | da       | IMGDA.ANTECEDENTS_CHIRURGICAUX.TEXTE |
      | antecedents-chirurgicaux-sans-texte | tep      | IMGDA.ANTECEDENTS_CHIRURGICAUX.TEXTE |

  @negative
  Plan du Scénario: Informations du patient — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                           | document | règle                        |
      | risques-absent                     | da       | IMGDA.RISQUES.CARD           |
      | risques-absent                     | tep      | IMGDA.RISQUES.CARD           |
      | risques-sans-reponse               | da       | IMGDA.RISQUES.BL             |
      | risques-sans-reponse               | tep      | IMGDA.RISQUES.BL             |
      | informations-transmises-en-double  | da       | IMGDA.INFOS_TRANSMISES.CARD  |
      | informations-transmises-en-double  | tep      | IMGDA.INFOS_TRANSMISES.CARD  |
      | informations-transmises-sans-texte | da       | IMGDA.INFOS_TRANSMISES.TEXTE |
      | informations-transmises-sans-texte | tep      | IMGDA.INFOS_TRANSMISES.TEXTE |

  @negative
  Plan du Scénario: Contre-indications (modèle technique) et informations pour la prise en charge — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                          | document | règle                        |
      | contre-indication-sans-code       | da       | IMGDA.CONTRE_INDICATION.CD   |
      | contre-indication-sans-code       | tep      | IMGDA.CONTRE_INDICATION.CD   |
      | contre-indication-hors-jdv        | da       | IMGDA.CONTRE_INDICATION.VS   |
      | contre-indication-hors-jdv        | tep      | IMGDA.CONTRE_INDICATION.VS   |
      | contre-indication-grossesse-homme | da       | IMGDA.CONTRE_INDICATION.SEXE |
      | contre-indication-grossesse-homme | tep      | IMGDA.CONTRE_INDICATION.SEXE |
      | prise-en-charge-non-codee         | da       | IMGDA.PRISE_EN_CHARGE.CD     |
      | prise-en-charge-non-codee         | mammo    | IMGDA.PRISE_EN_CHARGE.CD     |
      | prise-en-charge-hors-jdv          | da       | IMGDA.PRISE_EN_CHARGE.VS     |
      | prise-en-charge-hors-jdv          | mammo    | IMGDA.PRISE_EN_CHARGE.VS     |

  @negative
  Plan du Scénario: Actes d'imagerie demandés — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation  | document | règle           |
      | sans-acte | da       | IMGDA.ACTE.CARD |
      | sans-acte | tep      | IMGDA.ACTE.CARD |

  @negative
  Plan du Scénario: Modalité d'imagerie demandée et commentaire obligatoire (« Autre », imagerie interventionnelle) — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                                        | document | règle                         |
      | modalite-non-codee                              | da       | IMGDA.ACTE.MODALITE.CD        |
      | modalite-non-codee                              | irm      | IMGDA.ACTE.MODALITE.CD        |
      | modalite-hors-jdv                               | da       | IMGDA.ACTE.MODALITE.VS        |
      | modalite-hors-jdv                               | irm      | IMGDA.ACTE.MODALITE.VS        |
      | commentaire-modalite-en-double                  | da       | IMGDA.ACTE.COMMENTAIRE.CARD   |
      | commentaire-modalite-en-double                  | tep      | IMGDA.ACTE.COMMENTAIRE.CARD   |
      | modalite-autre-sans-commentaire                 | da       | IMGDA.ACTE.COMMENTAIRE.REQUIS |
      | modalite-autre-sans-commentaire                 | irm      | IMGDA.ACTE.COMMENTAIRE.REQUIS |
      | modalite-interventionnelle-sans-commentaire     | da       | IMGDA.ACTE.COMMENTAIRE.REQUIS |
      | modalite-interventionnelle-sans-commentaire     | irm      | IMGDA.ACTE.COMMENTAIRE.REQUIS |
      | modalite-interventionnelle-smt-sans-commentaire | da       | IMGDA.ACTE.COMMENTAIRE.REQUIS |
      | modalite-interventionnelle-smt-sans-commentaire | irm      | IMGDA.ACTE.COMMENTAIRE.REQUIS |
      | commentaire-sans-texte                          | da       | IMGDA.COMMENTAIRE.TEXTE       |
      | commentaire-sans-texte                          | tep      | IMGDA.COMMENTAIRE.TEXTE       |

  @negative
  Plan du Scénario: Médecine nucléaire : fonctions étudiées, commentaire d'une fonction « Autre », injection de PDC en TEP — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                        | document | règle                                  |
      | injection-en-double             | da       | IMGDA.ACTE.INJECTION.CARD              |
      | injection-en-double             | tep      | IMGDA.ACTE.INJECTION.CARD              |
      | tep-fdg-sans-injection          | da       | IMGDA.ACTE.INJECTION.REQUISE           |
      | tep-fdg-sans-injection          | tep      | IMGDA.ACTE.INJECTION.REQUISE           |
      | injection-hors-tep              | da       | IMGDA.ACTE.INJECTION.HORS_TEP          |
      | injection-hors-tep              | irm      | IMGDA.ACTE.INJECTION.HORS_TEP          |
      | injection-non-codee             | da       | IMGDA.ACTE.INJECTION.CD                |
      | injection-non-codee             | tep      | IMGDA.ACTE.INJECTION.CD                |
      | injection-hors-jdv              | da       | IMGDA.ACTE.INJECTION.VS                |
      | injection-hors-jdv              | tep      | IMGDA.ACTE.INJECTION.VS                |
      | tep-sans-fonction               | da       | IMGDA.ACTE.FONCTION.REQUISE            |
      | tep-sans-fonction               | tep      | IMGDA.ACTE.FONCTION.REQUISE            |
      | fonction-sur-scanner            | da       | IMGDA.ACTE.FONCTION.HORS_MN            |
      | fonction-sur-scanner            | tep      | IMGDA.ACTE.FONCTION.HORS_MN            |
      | fonction-non-codee              | da       | IMGDA.ACTE.FONCTION.CD                 |
      | fonction-non-codee              | tep      | IMGDA.ACTE.FONCTION.CD                 |
      | fonction-scintigraphie-sur-tep  | da       | IMGDA.ACTE.FONCTION.VS                 |
      | fonction-scintigraphie-sur-tep  | tep      | IMGDA.ACTE.FONCTION.VS                 |
      | fonction-autre-sans-commentaire | da       | IMGDA.ACTE.FONCTION.COMMENTAIRE.REQUIS |
      | fonction-autre-sans-commentaire | tep      | IMGDA.ACTE.FONCTION.COMMENTAIRE.REQUIS |

  @negative
  Plan du Scénario: Localisations anatomiques, précision topographique [0..*] et latéralité — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                           | document | règle                        |
      | sans-localisation                  | da       | IMGDA.ACTE.LOCALISATION.CARD |
      | sans-localisation                  | tep      | IMGDA.ACTE.LOCALISATION.CARD |
      | localisation-non-codee             | da       | IMGDA.ACTE.LOCALISATION.CD   |
      | localisation-non-codee             | tep      | IMGDA.ACTE.LOCALISATION.CD   |
      | localisation-hors-jdv              | da       | IMGDA.ACTE.LOCALISATION.VS   |
      | localisation-hors-jdv              | tep      | IMGDA.ACTE.LOCALISATION.VS   |
      | precision-topographique-mal-nommee | da       | IMGDA.ACTE.TOPOGRAPHIE.CD    |
      | precision-topographique-mal-nommee | irm      | IMGDA.ACTE.TOPOGRAPHIE.CD    |
      | precision-topographique-hors-jdv   | da       | IMGDA.ACTE.TOPOGRAPHIE.VS    |
      | precision-topographique-hors-jdv   | irm      | IMGDA.ACTE.TOPOGRAPHIE.VS    |
      | lateralite-contradictoire          | da       | IMGDA.ACTE.LATERALITE        |
      | lateralite-contradictoire          | irm      | IMGDA.ACTE.LATERALITE        |

  @negative
  Plan du Scénario: Date limite souhaitée et évènement associé — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                  | document | règle                      |
      | date-souhaitee-intervalle | da       | IMGDA.ACTE.DATE.TS         |
      | date-souhaitee-intervalle | tep      | IMGDA.ACTE.DATE.TS         |
      | evenement-en-double       | da       | IMGDA.ACTE.EVENEMENT.CARD  |
      | evenement-en-double       | tep      | IMGDA.ACTE.EVENEMENT.CARD  |
      | evenement-sans-texte      | da       | IMGDA.ACTE.EVENEMENT.TEXTE |
      | evenement-sans-texte      | tep      | IMGDA.ACTE.EVENEMENT.TEXTE |

  @negative
  Plan du Scénario: Références au texte narratif — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                       | document | règle                        |
      | reference-narrative-pendante   | da       | CDA.TEXTE.REFERENCE          |
      | reference-narrative-pendante   | tep      | CDA.TEXTE.REFERENCE          |
      | reference-narrative-sans-diese | da       | CDA.TEXTE.REFERENCE.FRAGMENT |

  @negative
  Plan du Scénario: Encodage du document — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                  | document | règle             |
      | marque-d-ordre-des-octets | da       | CDA.ENCODAGE.BOM  |
      | encodage-iso-8859-1       | da       | CDA.ENCODAGE.UTF8 |

  @negative
  Plan du Scénario: Schéma CDA R2 de la demande — <mutation> sur « <document> »
    Étant donné la demande d'actes d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                    | document | règle                                |
      | xsd-element-inconnu         | da       | XSD.SCHEMAV_ELEMENT_CONTENT          |
      | xsd-element-inconnu         | tep      | XSD.SCHEMAV_ELEMENT_CONTENT          |
      | xsd-date-mal-formee         | da       | XSD.SCHEMAV_CVC_PATTERN_VALID        |
      | xsd-date-mal-formee         | tep      | XSD.SCHEMAV_CVC_PATTERN_VALID        |
      | xsd-extension-vide          | da       | XSD.SCHEMAV_CVC_MINLENGTH_VALID      |
      | xsd-extension-vide          | tep      | XSD.SCHEMAV_CVC_MINLENGTH_VALID      |
      | xsd-typeid-faux             | da       | XSD.SCHEMAV_CVC_AU                   |
      | xsd-typeid-faux             | tep      | XSD.SCHEMAV_CVC_AU                   |
      | xsd-valeur-sans-type        | da       | XSD.SCHEMAV_CVC_TYPE_2               |
      | xsd-valeur-sans-type        | tep      | XSD.SCHEMAV_CVC_TYPE_2               |
      | xsd-type-inconnu            | da       | XSD.SCHEMAV_CVC_ELT_4_2              |
      | xsd-type-inconnu            | tep      | XSD.SCHEMAV_CVC_ELT_4_2              |
      | xsd-type-non-derive         | da       | XSD.SCHEMAV_CVC_ELT_4_3              |
      | xsd-type-non-derive         | tep      | XSD.SCHEMAV_CVC_ELT_4_3              |
      | xsd-classcode-absent        | da       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_4       |
      | xsd-classcode-absent        | tep      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_4       |
      | xsd-moodcode-inconnu        | da       | XSD.SCHEMAV_CVC_ENUMERATION_VALID    |
      | xsd-moodcode-inconnu        | tep      | XSD.SCHEMAV_CVC_ENUMERATION_VALID    |
      | xsd-attribut-inconnu        | da       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1   |
      | xsd-attribut-inconnu        | tep      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1   |
      | xsd-uid-invalide            | da       | XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3 |
      | xsd-uid-invalide            | tep      | XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3 |
      | xsd-texte-hors-contenu      | da       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3     |
      | xsd-texte-hors-contenu      | tep      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3     |
      | xsd-booleen-invalide        | da       | XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1 |
      | xsd-booleen-invalide        | tep      | XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_1 |
      | xsd-texte-dans-element-vide | da       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1     |
      | xsd-texte-dans-element-vide | tep      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1     |
      | xsd-rang-de-naissance-nul   | da       | XSD.OTHER                            |
      | xsd-rang-de-naissance-nul   | tep      | XSD.OTHER                            |

  @negative
  Plan du Scénario: un contenu illisible ou qui n'est pas une demande d'imagerie est refusé — <contenu>
    Étant donné le contenu « <contenu> » présenté comme un document CDA
    Quand le harnais le valide
    Alors la validation est refusée : « <raison> »

    Exemples:
      | contenu                        | raison                                       |
      | vide                           | input is empty                               |
      | un PDF                         | input is a PDF document, not XML             |
      | du texte                       | not XML                                      |
      | un XML qui n'est pas un CDA    | not a CDA document                           |
      | un CDA d'un autre modèle       | not an IMG-DA-IMG/IMG-CR-IMG document        |
      | un CDA tronqué                 | truncated XML                                |
      | un CDA mal encodé              | encoding mismatch                            |
      | un CDA qui déclare des entités | entity declarations are refused              |
