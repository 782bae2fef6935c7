# language: fr
Fonctionnalité: 3.4 Consultation de documents de Références d'Objets d'un Examen d'Imagerie
  Le consommateur de documents demande au gestionnaire de partage les documents dont il a trouvé les
  fiches (Flux 7 - DemandeConsultationDocument) ; le gestionnaire les lui transmet
  (Flux 8 - ResultatDemandeConsultationDocument).

  Contexte:
    Étant donné un examen d'imagerie « CT » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen
    Et le consommateur recherche les documents du patient avec le critère « Study Instance UID de l'examen »

  @process_3_4 @flux_7 @flux_8 @actor_registry @actor_consumer @req_PEI_3_4_FLUX7 @req_PEI_3_4_FLUX8
  Plan du Scénario: Le consommateur récupère un document de l'examen
    Quand le consommateur récupère le <document> de l'examen
    Alors le gestionnaire accepte la demande
    Et le document reçu est identique au <document> publié

    Exemples:
      | document     |
      | KOS          |
      | compte rendu |

  @process_3_4 @flux_7 @flux_8 @actor_registry @actor_consumer @negative @req_PEI_3_4_FLUX8
  Scénario: Le gestionnaire signale un document demandé qu'il ne détient pas
    Quand le consommateur demande un document inconnu du gestionnaire
    Alors le gestionnaire répond en échec avec l'une des erreurs « XDSDocumentUniqueIdError, XDSMissingDocument »
    Et aucun document n'est reçu
