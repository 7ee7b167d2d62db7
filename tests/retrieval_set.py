"""A small labelled retrieval set: documents, and questions naming the one that answers.

Shared by the stores' lexical search tests and the dense-embedding measurement."""

CORPUS = {
    "relativity": "La relativité restreinte d'Einstein (1905) établit que la vitesse de la lumière "
    "est constante. La relativité générale (1915) décrit la gravitation comme une courbure de "
    "l'espace-temps.",
    "photosynthesis": "Photosynthesis converts light energy into chemical energy: plants take "
    "carbon dioxide and water and release oxygen, storing sugar in their leaves.",
    "budget": "Le budget du projet Atlas est de 120 000 euros pour 2026, dont 40 % pour le "
    "personnel et 25 % pour l'infrastructure cloud.",
    "risks": "Les risques principaux du projet Atlas sont le retard des livraisons du "
    "fournisseur de capteurs et la dépendance à une seule équipe de développement.",
    "python_loops": "In Python, a for loop iterates over any iterable: for item in items. "
    "A while loop repeats while its condition holds; break leaves the loop early.",
    "javascript_loops": "En JavaScript, une boucle for s'écrit for (let i = 0; i < 10; i++). "
    "La boucle for...of parcourt les éléments d'un tableau.",
    "volcano": "Volcanoes erupt when magma rises through the crust; the 1980 eruption of Mount "
    "St. Helens removed the top of the mountain.",
    "coffee": "Le café arabica pousse en altitude, entre 600 et 2000 mètres; le robusta supporte "
    "mieux la chaleur et contient plus de caféine.",
    "tides": "Ocean tides are caused mainly by the Moon's gravity pulling on the oceans, with a "
    "smaller contribution from the Sun.",
    "schedule": "Le calendrier du projet Atlas prévoit un prototype en mars, des tests terrain en "
    "juin et la mise en production en septembre.",
    # Distractors: near the topics above, answering none of the questions.
    "borealis_budget": "Le budget du projet Borealis atteint 80 000 euros, surtout pour des "
    "licences logicielles et la formation des équipes.",
    "borealis_risks": "Pour Borealis, le principal risque identifié est la rotation du "
    "personnel et la perte de connaissances.",
    "java_loops": "In Java, the enhanced for statement iterates over arrays and collections; "
    "a do-while loop runs its body at least once.",
    "earthquakes": "Earthquakes happen when stress along a fault is released suddenly; the "
    "magnitude scale is logarithmic.",
    "tea": "Le thé vert n'est pas oxydé, le thé noir l'est entièrement; les deux viennent de "
    "Camellia sinensis.",
    "wind": "Sea breezes blow from the sea toward the land during the day because land heats "
    "up faster than water.",
    "quantum": "La mécanique quantique décrit les particules par une fonction d'onde; le "
    "principe d'incertitude limite la précision des mesures.",
    "respiration": "Cellular respiration releases energy from glucose using oxygen and "
    "produces carbon dioxide and water.",
    "atlas_team": "L'équipe du projet Atlas compte six développeurs, une cheffe de projet et "
    "un responsable qualité.",
    "moon_phases": "The phases of the Moon come from the changing angle between the Sun, the "
    "Earth and the Moon over a month.",
}

QUESTIONS = [
    ("Que dit la relativité générale sur la gravitation ?", "relativity"),
    ("How do plants make sugar from light?", "photosynthesis"),
    ("Quel est le budget du projet Atlas ?", "budget"),
    ("Quels sont les risques du projet ?", "risks"),
    ("How do I write a loop in Python?", "python_loops"),
    ("Comment écrire une boucle en JavaScript ?", "javascript_loops"),
    ("What happened at Mount St. Helens?", "volcano"),
    ("Quel café contient le plus de caféine ?", "coffee"),
    ("What causes ocean tides?", "tides"),
    ("Quand est prévue la mise en production ?", "schedule"),
    ("vitesse de la lumière constante", "relativity"),
    ("oxygen released by leaves", "photosynthesis"),
    # Paraphrases, sharing few words with the answer.
    ("Why does the sea level rise and fall twice a day?", "tides"),
    ("How much money has Atlas been given?", "budget"),
    ("What could delay the Atlas project?", "risks"),
    ("How do green plants feed themselves?", "photosynthesis"),
    ("Which coffee grows in the mountains?", "coffee"),
    ("What did Einstein show about the speed of light?", "relativity"),
]
