# language: fr
Fonctionnalité: 3.5 Consultation d'examens d'imagerie
  Le consommateur d'examen d'imagerie, ayant obtenu le KOS de l'examen, demande au producteur d'examens
  d'imagerie les images qu'il référence (Flux 9 - DemandeConsultationExamenImagerie) par l'une des méthodes
  que le KOS permet : RAD-69, C-GET, C-MOVE ou WADO-RS ; la source d'images les lui transmet
  (Flux 10 - ResultatDemandeConsultationExamenImagerie).

  @process_3_5 @flux_9 @flux_10 @actor_imaging_source @actor_consumer @req_PEI_3_5_FLUX9 @req_PEI_3_5_FLUX10
  Plan du Scénario: Le consommateur récupère les images d'un examen par la méthode du KOS
    Étant donné un examen d'imagerie dont les images sont disponibles auprès de la source d'images
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur a obtenu le KOS de l'examen auprès du gestionnaire
    Quand le consommateur d'images récupère les images référencées par le KOS par « <méthode> »
    Alors toutes les instances référencées par le KOS sont reçues

    Exemples:
      | méthode |
      | RAD-69  |
      | C-GET   |
      | C-MOVE  |
      | WADO-RS |

  @process_3_5 @flux_9 @flux_10 @actor_imaging_source @negative @req_PEI_3_5_FLUX10
  Plan du Scénario: La source d'images signale des instances qu'elle ne détient pas
    Étant donné un KOS qui référence des instances inconnues de la source d'images
    Quand le consommateur d'images récupère les images référencées par le KOS par « <méthode> »
    Alors la source d'images répond par l'échec « <échec> »
    Et aucune instance n'est reçue
    Et le consommateur d'images signale la règle « RETRIEVE.INSTANCE.MISSING »

    Exemples:
      | méthode | échec                    |
      | RAD-69  | XDSDocumentUniqueIdError |
      | C-GET   | 0xC000                   |
      | C-MOVE  | 0xC000                   |
      | WADO-RS | 404                      |

  @process_3_5 @flux_9 @flux_10 @actor_imaging_source @negative @req_PEI_3_5_FLUX9
  Scénario: La source d'images refuse un C-MOVE vers une destination inconnue
    Étant donné un examen d'imagerie dont les images sont disponibles auprès de la source d'images
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur a obtenu le KOS de l'examen auprès du gestionnaire
    Quand le consommateur d'images demande un C-MOVE vers la destination inconnue « INCONNU »
    Alors la source d'images répond par l'échec « 0xA801 »
    Et aucune instance n'est reçue
