# language: fr
# Généré à partir de features/cda/mutations.yaml et complété à la main. Documents : « cr » = notre compte
# rendu (tests/fixtures/cda) ; « cr3 », « cr1 » = exemples officiels IMG-CR-IMG 2024.01 de niveau 3 et 1.
@process_3_6 @process_3_7
Fonctionnalité: Lier un compte rendu d'imagerie à sa demande et à son examen
  Le compte rendu d'imagerie (IMG-CR-IMG) porte les clés qui le relient à la demande qu'il satisfait (Order Placer
  Number) et à l'examen qu'il décrit (accession number et son émetteur, Study Instance UID) : ce sont elles que
  les processus 3.6 et 3.7 du volet de partage d'examens d'imagerie utilisent pour retrouver le KOS et les images.

  Plan du Scénario: un compte rendu conforme ne porte aucune erreur — « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand le harnais le valide
    Alors il est reconnu comme « img-cr-img »
    Et aucune erreur n'est signalée

    Exemples:
      | document |
      | cr       |
      | cr3      |
      | cr1      |

  Scénario: les clés de liaison de notre compte rendu
    Étant donné le compte rendu d'imagerie « cr »
    Alors le numéro de la demande (Order Placer Number) est « DA-2024-0001 » émis par « 1.2.250.1.999.2.1 »
    Et l'accession number est « ACC-0001 » émis par « 1.2.250.1.999.3.1 »
    Et l'examen a le Study Instance UID « 1.2.250.1.999.4.1.20240202 »
    Et le compte rendu satisfait 1 demande(s) et documente 1 examen(s)

  Scénario: le compte rendu officiel satisfait deux demandes et documente trois examens
    Étant donné le compte rendu d'imagerie « cr3 »
    Alors le numéro de la demande (Order Placer Number) est « 984375862 » émis par « 1.2.250.1.748.12345678.12 »
    Et l'accession number est « 105234751 » émis par « 1.2.250.1.925.994044785528.27 »
    Et l'examen a le Study Instance UID « 1.2.250.1.925.994044.27.123.1876360 »
    Et le compte rendu satisfait 2 demande(s) et documente 3 examen(s)

  Scénario: le compte rendu de niveau 1 (PDF encapsulé) porte les mêmes clés
    Étant donné le compte rendu d'imagerie « cr1 »
    Quand le harnais le valide
    Alors il est reconnu comme « img-cr-img »
    Et aucune erreur n'est signalée
    Et l'accession number est « 105234751 » émis par « 1.2.250.1.925.994044.27 »

  @negative
  Plan du Scénario: En-tête du compte rendu — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                               | document | règle                    |
      | cr-sans-template-imaging-header        | cr       | IMGCR.ENTETE.TEMPLATE    |
      | cr-sans-template-imaging-header        | cr3      | IMGCR.ENTETE.TEMPLATE    |
      | cr-niveau1-sans-template-xds-sd        | cr1      | IMGCR.ENTETE.TEMPLATE_N1 |
      | cr-devenu-niveau1-sans-template-xds-sd | cr       | IMGCR.ENTETE.TEMPLATE_N1 |
      | cr-code-document                       | cr       | IMGCR.ENTETE.CODE        |
      | cr-code-document                       | cr3      | IMGCR.ENTETE.CODE        |
      | cr-sans-examen                         | cr       | IMGCR.ENTETE.EXAMEN.CARD |
      | cr-sans-examen                         | cr3      | IMGCR.ENTETE.EXAMEN.CARD |
      | cr-examen-sans-modalite                | cr       | IMGCR.ENTETE.MODALITE    |
      | cr-examen-sans-modalite                | cr3      | IMGCR.ENTETE.MODALITE    |

  @negative
  Plan du Scénario: Clés qui lient le compte rendu à la demande et à l'examen — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                       | document | règle                           |
      | cr-sans-demande                | cr       | IMGCR.ENTETE.DEMANDE            |
      | cr-sans-demande                | cr3      | IMGCR.ENTETE.DEMANDE            |
      | cr-study-uid-avec-extension    | cr       | IMGCR.ENTETE.STUDYUID           |
      | cr-study-uid-avec-extension    | cr3      | IMGCR.ENTETE.STUDYUID           |
      | cr-study-uid-mal-forme         | cr       | IMGCR.ENTETE.STUDYUID.FORMAT    |
      | cr-study-uid-mal-forme         | cr3      | IMGCR.ENTETE.STUDYUID.FORMAT    |
      | cr-order-placer-sans-numero    | cr       | IMGCR.ENTETE.ORDER_PLACER       |
      | cr-order-placer-sans-numero    | cr3      | IMGCR.ENTETE.ORDER_PLACER       |
      | cr-sans-accession-number       | cr       | IMGCR.ENTETE.ACCESSION          |
      | cr-sans-accession-number       | cr3      | IMGCR.ENTETE.ACCESSION          |
      | cr-accession-sans-emetteur-oid | cr       | IMGCR.ENTETE.ACCESSION.EMETTEUR |
      | cr-accession-sans-emetteur-oid | cr3      | IMGCR.ENTETE.ACCESSION.EMETTEUR |
      | cr-etude-inconnue              | cr       | IMGCR.CATALOGUE.STUDYUID        |
      | cr-etude-inconnue              | cr3      | IMGCR.CATALOGUE.STUDYUID        |

  @negative
  Plan du Scénario: Corps structuré (niveau 3) du compte rendu — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                       | document | règle                             |
      | cr-sans-acte                   | cr       | IMGCR.ACTE.CARD                   |
      | cr-sans-acte                   | cr3      | IMGCR.ACTE.CARD                   |
      | cr-sans-conclusion             | cr       | IMGCR.CONCLUSION.CARD             |
      | cr-sans-conclusion             | cr3      | IMGCR.CONCLUSION.CARD             |
      | cr-acte-sans-technique         | cr       | IMGCR.ACTE.TECHNIQUE.CARD         |
      | cr-acte-sans-technique         | cr3      | IMGCR.ACTE.TECHNIQUE.CARD         |
      | cr-acte-sans-catalogue         | cr       | IMGCR.ACTE.CATALOGUE.CARD         |
      | cr-acte-sans-catalogue         | cr3      | IMGCR.ACTE.CATALOGUE.CARD         |
      | cr-technique-sans-localisation | cr       | IMGCR.TECHNIQUE.LOCALISATION.CARD |
      | cr-technique-sans-localisation | cr3      | IMGCR.TECHNIQUE.LOCALISATION.CARD |

  @negative
  Plan du Scénario: Jeux de valeurs du compte rendu — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                      | document | règle                           |
      | cr-code-examen-hors-jdv       | cr       | IMGCR.ENTETE.CODE_EXAMEN.VS     |
      | cr-code-examen-hors-jdv       | cr3      | IMGCR.ENTETE.CODE_EXAMEN.VS     |
      | cr-modalite-hors-jdv          | cr       | IMGCR.ENTETE.MODALITE.VS        |
      | cr-modalite-hors-jdv          | cr3      | IMGCR.ENTETE.MODALITE.VS        |
      | cr-region-hors-jdv            | cr       | IMGCR.ENTETE.REGION.VS          |
      | cr-region-hors-jdv            | cr3      | IMGCR.ENTETE.REGION.VS          |
      | cr-localisation-hors-jdv      | cr       | IMGCR.TECHNIQUE.LOCALISATION.VS |
      | cr-localisation-hors-jdv      | cr3      | IMGCR.TECHNIQUE.LOCALISATION.VS |
      | cr-lateralite-hors-jdv        | cr       | IMGCR.TECHNIQUE.LATERALITE.VS   |
      | cr-serie-modalite-hors-jdv    | cr       | IMGCR.SERIE.MODALITE.VS         |
      | cr-serie-modalite-hors-jdv    | cr3      | IMGCR.SERIE.MODALITE.VS         |
      | cr-sop-class-hors-jdv         | cr       | IMGCR.SOP_CLASS.VS              |
      | cr-sop-class-hors-jdv         | cr3      | IMGCR.SOP_CLASS.VS              |
      | cr-grossesse-hors-jdv         | cr       | IMGCR.GROSSESSE.VS              |
      | cr-grossesse-hors-jdv         | cr3      | IMGCR.GROSSESSE.VS              |
      | cr-contre-indication-hors-jdv | cr       | IMGCR.CONTRE_INDICATION.VS      |
      | cr-contre-indication-hors-jdv | cr3      | IMGCR.CONTRE_INDICATION.VS      |

  @negative
  Plan du Scénario: Références au texte narratif du compte rendu — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                     | document | règle               |
      | reference-narrative-pendante | cr       | CDA.TEXTE.REFERENCE |
      | reference-narrative-pendante | cr3      | CDA.TEXTE.REFERENCE |

  @negative
  Plan du Scénario: Encodage du compte rendu — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                  | document | règle             |
      | marque-d-ordre-des-octets | cr       | CDA.ENCODAGE.BOM  |
      | encodage-iso-8859-1       | cr       | CDA.ENCODAGE.UTF8 |

  @negative
  Plan du Scénario: Schéma CDA R2 du compte rendu — <mutation> sur « <document> »
    Étant donné le compte rendu d'imagerie « <document> »
    Quand on lui applique la mutation « <mutation> »
    Et le harnais la valide
    Alors la règle « <règle> » est signalée
    Et aucune autre erreur n'est signalée

    Exemples:
      | mutation                    | document | règle                                |
      | xsd-element-inconnu         | cr       | XSD.SCHEMAV_ELEMENT_CONTENT          |
      | xsd-element-inconnu         | cr3      | XSD.SCHEMAV_ELEMENT_CONTENT          |
      | xsd-date-mal-formee         | cr       | XSD.SCHEMAV_CVC_PATTERN_VALID        |
      | xsd-date-mal-formee         | cr3      | XSD.SCHEMAV_CVC_PATTERN_VALID        |
      | xsd-extension-vide          | cr       | XSD.SCHEMAV_CVC_MINLENGTH_VALID      |
      | xsd-extension-vide          | cr3      | XSD.SCHEMAV_CVC_MINLENGTH_VALID      |
      | xsd-typeid-faux             | cr       | XSD.SCHEMAV_CVC_AU                   |
      | xsd-typeid-faux             | cr3      | XSD.SCHEMAV_CVC_AU                   |
      | xsd-valeur-sans-type        | cr       | XSD.SCHEMAV_CVC_TYPE_2               |
      | xsd-valeur-sans-type        | cr3      | XSD.SCHEMAV_CVC_TYPE_2               |
      | xsd-type-inconnu            | cr       | XSD.SCHEMAV_CVC_ELT_4_2              |
      | xsd-type-inconnu            | cr3      | XSD.SCHEMAV_CVC_ELT_4_2              |
      | xsd-classcode-absent        | cr       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_4       |
      | xsd-classcode-absent        | cr3      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_4       |
      | xsd-moodcode-inconnu        | cr       | XSD.SCHEMAV_CVC_ENUMERATION_VALID    |
      | xsd-moodcode-inconnu        | cr3      | XSD.SCHEMAV_CVC_ENUMERATION_VALID    |
      | xsd-attribut-inconnu        | cr       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1   |
      | xsd-attribut-inconnu        | cr3      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_3_2_1   |
      | xsd-uid-invalide            | cr       | XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3 |
      | xsd-uid-invalide            | cr3      | XSD.SCHEMAV_CVC_DATATYPE_VALID_1_2_3 |
      | xsd-texte-hors-contenu      | cr       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3     |
      | xsd-texte-hors-contenu      | cr3      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_3     |
      | xsd-texte-dans-element-vide | cr       | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1     |
      | xsd-texte-dans-element-vide | cr3      | XSD.SCHEMAV_CVC_COMPLEX_TYPE_2_1     |
      | xsd-rang-de-naissance-nul   | cr       | XSD.OTHER                            |
      | xsd-rang-de-naissance-nul   | cr3      | XSD.OTHER                            |
