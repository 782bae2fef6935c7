# language: fr
Fonctionnalité: 3.2 Mise à jour des métadonnées d'une fiche d'un document de Références d'Objets
  Le producteur de documents demande au gestionnaire de partage de modifier une fiche déjà enregistrée :
  changement de statut (archivage, suppression) ou nouvelle version de ses métadonnées
  (Flux 3 - MiseAJourMetadonneeFiche) ; le gestionnaire répond (Flux 4 - ResultatMAJMetadonneeFiche).

  Contexte:
    Étant donné un examen d'imagerie « CT » du patient de test
    Et le producteur a publié le KOS et le compte rendu de l'examen

  @process_3_2 @flux_3 @flux_4 @actor_registry @actor_producer @req_PEI_3_2_FLUX3 @req_PEI_3_2_FLUX4
  Scénario: Le producteur archive la fiche du KOS
    Quand le producteur fait passer la fiche du KOS du statut « Approved » au statut « Archived »
    Alors le gestionnaire accepte la demande
    Et la fiche du KOS a le statut « Archived »

  @process_3_2 @flux_3 @flux_4 @actor_registry @actor_producer @req_PEI_3_2_FLUX3 @req_PEI_3_2_FLUX4
  Scénario: Le producteur supprime la fiche archivée du KOS
    Quand le producteur fait passer la fiche du KOS du statut « Approved » au statut « Archived »
    Et le producteur fait passer la fiche du KOS du statut « Archived » au statut « Deleted »
    Alors le gestionnaire accepte la demande
    Et la fiche du KOS a le statut « Deleted »

  @process_3_2 @flux_3 @flux_4 @actor_registry @actor_producer @req_PEI_3_2_FLUX3 @req_PEI_3_2_FLUX4
  Scénario: Une fiche archivée n'est plus proposée parmi les documents approuvés
    Quand le producteur fait passer la fiche du KOS du statut « Approved » au statut « Archived »
    Et le consommateur recherche les documents du patient au statut « Approved »
    Alors le compte rendu de l'examen figure dans le résultat
    Mais le KOS de l'examen ne figure pas dans le résultat

  @process_3_2 @flux_3 @flux_4 @actor_registry @actor_producer @req_PEI_3_2_FLUX3 @req_PEI_3_2_FLUX4
  Scénario: Le producteur publie une nouvelle version de la fiche du KOS
    Quand le producteur publie une nouvelle version de la fiche du KOS
    Alors le gestionnaire accepte la demande
    Et la nouvelle version de la fiche du KOS est approuvée et l'ancienne est dépréciée

  @process_3_2 @flux_3 @flux_4 @actor_registry @negative @req_PEI_3_2_FLUX4
  Scénario: Le gestionnaire refuse un changement de statut depuis un statut d'origine erroné
    Quand le producteur fait passer la fiche du KOS du statut « Archived » au statut « Approved »
    Alors le gestionnaire répond en échec avec l'erreur « XDSMetadataUpdateError »
    Et la fiche du KOS a le statut « Approved »

  @process_3_2 @flux_3 @flux_4 @actor_registry @negative @req_PEI_3_2_FLUX4
  Scénario: Le gestionnaire refuse une nouvelle version d'une fiche qu'il ne connaît pas
    Quand le producteur publie une nouvelle version d'une fiche inconnue du gestionnaire
    Alors le gestionnaire répond en échec avec l'une des erreurs « UnresolvedReferenceException, XDSMetadataUpdateError »
