# language: fr
Fonctionnalité: 3.3 Recherche de documents de Références d'Objets d'un Examen d'Imagerie
  Le consommateur de documents interroge le gestionnaire de partage sur les fiches d'un patient, avec
  les critères du Tableau 13 : dates, modalité, région anatomique, accession number, Study Instance UID,
  numéro de demande (Flux 5 - RechercheDocument) ; le gestionnaire répond avec les fiches qui y
  satisfont (Flux 6 - ResultatRechercheDocuments).

  Contexte:
    Étant donné un examen d'imagerie « CT » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen

  @process_3_3 @flux_5 @flux_6 @actor_registry @actor_consumer @req_PEI_3_3_FLUX5 @req_PEI_3_3_FLUX6
  Plan du Scénario: Le consommateur retrouve les fiches de l'examen par un critère de recherche
    Quand le consommateur recherche les documents du patient avec le critère « <critère> »
    Alors le gestionnaire accepte la demande
    Et le KOS et le compte rendu de l'examen figurent dans le résultat

    @req_PEI_T13_CRITERES
    Exemples: Patient et dates (Tableau 13)
      | critère             |
      | patient seul        |
      | période de l'examen |

    @req_PEI_T12_MODALITE
    Exemples: Modalité
      | critère              |
      | modalité de l'examen |

    @req_PEI_T12_REGION @req_PEI_T14_REGION
    Exemples: Région anatomique
      | critère                       |
      | région anatomique de l'examen |

    @req_PEI_T12_ACCESSION
    Exemples: Accession number
      | critère                      |
      | accession number de l'examen |

    @req_PEI_T12_STUDYUID
    Exemples: Study Instance UID
      | critère                        |
      | Study Instance UID de l'examen |

    @req_PEI_T12_ORDER
    Exemples: Numéro de demande
      | critère                       |
      | numéro de demande de l'examen |

  @process_3_3 @flux_5 @flux_6 @actor_registry @actor_consumer @req_PEI_3_3_FLUX6 @req_PEI_T13_CRITERES
  Plan du Scénario: Le gestionnaire ne renvoie pas les fiches qui ne satisfont pas au critère
    Quand le consommateur recherche les documents du patient avec le critère « <critère> »
    Alors le gestionnaire accepte la demande
    Et aucun document de l'examen ne figure dans le résultat

    Exemples:
      | critère                           |
      | période antérieure à l'examen     |
      | autre modalité                    |
      | autre région anatomique           |
      | accession number d'un autre examen |

  @process_3_3 @flux_5 @flux_6 @actor_registry @actor_consumer @negative @req_PEI_3_3_FLUX5 @req_PEI_T13_CRITERES
  Scénario: Le gestionnaire refuse une recherche sans identifiant de patient
    Quand le consommateur envoie une recherche sans identifiant de patient
    Alors le gestionnaire répond en échec avec l'erreur « XDSStoredQueryMissingParam »
    Et la règle « SQ.PARAM.MISSING » est signalée dans le flux 5

  @process_3_3 @flux_5 @flux_6 @actor_registry @actor_consumer @req_PEI_3_3_FLUX6 @req_PEI_T12_MODALITE
  Plan du Scénario: Le consommateur recherche les examens d'une modalité
    Étant donné un examen d'imagerie « <modalité> » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Quand le consommateur recherche les documents de la modalité « <modalité> »
    Alors le KOS et le compte rendu de l'examen figurent dans le résultat

    Exemples:
      | modalité |
      | CT       |
      | MR       |
      | US       |
      | MG       |
      | PT       |
