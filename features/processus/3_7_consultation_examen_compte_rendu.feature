# language: fr
Fonctionnalité: 3.7 Consultation d'Examen d'Imagerie associé à un compte-rendu de diagnostic d'imagerie
  Le consommateur, disposant du compte rendu d'un examen, y lit l'identifiant de l'examen, recherche avec lui
  le KOS de l'examen (Flux 5, 6), le récupère (Flux 7, 8) puis récupère les images qu'il référence (Flux 9, 10).

  @process_3_7 @flux_5 @flux_6 @flux_7 @flux_8 @actor_registry @actor_consumer @req_PEI_3_7
  Plan du Scénario: Le consommateur retrouve le KOS de l'examen à partir du compte rendu
    Étant donné un examen d'imagerie « CT » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur recherche les documents du patient avec le critère « patient seul »
    Et le consommateur récupère le compte rendu de l'examen
    Quand le consommateur recherche les documents de l'examen par « <clé> » lu dans le compte rendu
    Et le consommateur récupère le KOS de l'examen
    Alors le document reçu est identique au KOS publié
    Et le KOS reçu décrit l'examen du compte rendu

    @req_PEI_T12_ACCESSION
    Exemples: Par l'accession number
      | clé              |
      | accession number |

    @req_PEI_T12_STUDYUID
    Exemples: Par le Study Instance UID
      | clé                |
      | Study Instance UID |

  @process_3_7 @flux_5 @flux_6 @flux_7 @flux_8 @flux_9 @flux_10 @actor_registry @actor_consumer @actor_imaging_source @req_PEI_3_7 @req_PEI_3_5_FLUX9
  Scénario: Le consommateur consulte les images de l'examen d'un compte rendu
    Étant donné un examen d'imagerie dont les images sont disponibles auprès de la source d'images
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur recherche les documents du patient avec le critère « patient seul »
    Et le consommateur récupère le compte rendu de l'examen
    Quand le consommateur recherche les documents de l'examen par « Study Instance UID » lu dans le compte rendu
    Et le consommateur récupère le KOS de l'examen
    Et le consommateur d'images récupère les images référencées par le KOS par « RAD-69 »
    Alors le KOS reçu décrit l'examen du compte rendu
    Et toutes les instances référencées par le KOS sont reçues
