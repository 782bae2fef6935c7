# language: fr
Fonctionnalité: 3.1 Ajout d'un lot de documents (documents incluant une Référence d'Objets d'un Examen d'Imagerie)
  Le producteur de documents transmet au gestionnaire de partage de documents un lot contenant
  la Référence d'Objets de l'examen (KOS) et le compte rendu d'imagerie (Flux 1 - AjoutLotDocument) ;
  le gestionnaire enregistre le lot entier ou rien et répond (Flux 2 - ResultatAjoutLotDocument).

  @process_3_1 @flux_1 @flux_2 @actor_registry @actor_producer @req_PEI_3_1_FLUX1 @req_PEI_3_1_FLUX2
  Plan du Scénario: Le gestionnaire enregistre un lot contenant un KOS et son compte rendu
    Étant donné un examen d'imagerie « CT » du patient de test
    Et un lot de documents contenant le KOS et le compte rendu de l'examen
    Quand le producteur soumet le lot au gestionnaire de partage en « <encodage> »
    Alors le gestionnaire accepte le lot

    Exemples:
      | encodage |
      | MTOM     |
      | base64   |

  @process_3_1 @flux_1 @flux_2 @actor_registry @actor_producer @req_PEI_3_1_FLUX1 @req_PEI_T12_MODALITE
  Plan du Scénario: Le gestionnaire enregistre le KOS d'un examen de chaque modalité
    Étant donné un examen d'imagerie « <modalité> » du patient de test
    Et un lot de documents contenant le KOS et le compte rendu de l'examen
    Quand le producteur soumet le lot au gestionnaire de partage
    Alors le gestionnaire accepte le lot

    Exemples:
      | modalité |
      | MR       |
      | US       |
      | MG       |
      | PT       |
      | NM       |
      | XA       |

  @process_3_1 @flux_1 @flux_2 @actor_registry @negative @req_PEI_3_1_FLUX2
  Plan du Scénario: Le gestionnaire refuse un lot dont la fiche du KOS n'est pas conforme
    Étant donné un examen d'imagerie « CT » du patient de test
    Et un lot de documents contenant le KOS et le compte rendu de l'examen
    Et la fiche du KOS est altérée : « <altération> »
    Quand le producteur soumet le lot au gestionnaire de partage
    Alors le gestionnaire répond en échec avec l'erreur « <erreur> »
    Et la règle « <règle> » est signalée dans le flux 1
    Et aucun document de l'examen n'est enregistré

    @req_PEI_T12_MODALITE
    Exemples: Modalité (Tableau 12)
      | altération                  | erreur                     | règle                     |
      | sans modalité               | XDSRepositoryMetadataError | FLUX1.FICHE.MODALITE.CARD |
      | modalité hors jeu de valeurs | XDSRepositoryMetadataError | VS.DE.MODALITY            |

    @req_PEI_T12_REGION @req_PEI_T14_REGION
    Exemples: Région anatomique (Tableaux 12 et 14)
      | altération             | erreur                     | règle                   |
      | sans région anatomique | XDSRepositoryMetadataError | FLUX1.FICHE.REGION.CARD |

    @req_PEI_T12_STUDYUID @req_PEI_T16_CONTENU
    Exemples: Cohérence de la fiche et du KOS (Tableau 16)
      | altération                                  | erreur                     | règle                   |
      | Study Instance UID différent de celui du KOS | XDSRepositoryMetadataError | KOSDE.STUDYUID.MISMATCH |
      | patient différent de celui du lot            | XDSPatientIdDoesNotMatch   | META.PATIENT.MISMATCH   |

    @req_PEI_3_1_FLUX1
    Exemples: Fiche d'un document de Références d'Objets
      | altération           | erreur                     | règle                |
      | type MIME text/plain | XDSRepositoryMetadataError | KOS.DE.MIMETYPE      |
      | sans typeCode        | XDSRepositoryMetadataError | IHE.DE.TYPECODE.CARD |

  @process_3_1 @flux_1 @flux_2 @actor_registry @negative @req_PEI_3_1_FLUX2
  Scénario: Le gestionnaire refuse un lot dont l'empreinte du KOS ne correspond pas au document
    Étant donné un examen d'imagerie « CT » du patient de test
    Et un lot de documents contenant le KOS et le compte rendu de l'examen
    Et la fiche du KOS est altérée : « empreinte SHA-1 fausse »
    Quand le producteur soumet le lot au gestionnaire de partage
    Alors le gestionnaire répond en échec avec l'erreur « XDSNonIdenticalHash »
    Et aucun document de l'examen n'est enregistré

  @process_3_1 @flux_1 @flux_2 @actor_registry @negative @req_PEI_T15_IDUNIQUE
  Scénario: Le gestionnaire refuse un lot dont l'identifiant unique est déjà enregistré
    Étant donné un examen d'imagerie « CT » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Quand le producteur soumet à nouveau le même lot
    Alors le gestionnaire répond en échec avec l'erreur « XDSDuplicateUniqueIdInRegistry »
