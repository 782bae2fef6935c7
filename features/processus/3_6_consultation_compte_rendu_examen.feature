# language: fr
Fonctionnalité: 3.6 Consultation d'un compte-rendu de diagnostic d'imagerie associé à un examen
  Le consommateur, disposant du KOS d'un examen, y lit l'identifiant de l'examen (accession number,
  Study Instance UID), recherche avec lui le compte rendu de l'examen (Flux 5, 6) et le récupère (Flux 7, 8).

  Contexte:
    Étant donné un examen d'imagerie « CT » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur a obtenu le KOS de l'examen auprès du gestionnaire

  @process_3_6 @flux_5 @flux_6 @flux_7 @flux_8 @actor_registry @actor_consumer @req_PEI_3_6
  Plan du Scénario: Le consommateur retrouve le compte rendu de l'examen à partir de son KOS
    Quand le consommateur recherche les documents de l'examen par « <clé> » lu dans le KOS
    Et le consommateur récupère le compte rendu de l'examen
    Alors le document reçu est identique au compte rendu publié
    Et le compte rendu reçu porte « <clé> » du KOS

    @req_PEI_T12_ACCESSION
    Exemples: Par l'accession number
      | clé              |
      | accession number |

    @req_PEI_T12_STUDYUID
    Exemples: Par le Study Instance UID
      | clé                |
      | Study Instance UID |

    @req_PEI_T12_ORDER
    Exemples: Par le numéro de demande
      | clé               |
      | numéro de demande |
