DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=test;
	t=1764380000; h=message-id:date:from:to:subject:from;
	bh=wE7NXSkgnx9PGiavN4OZhJztvkqPDlemV3OGuEnLwNo=; b=W6n4zc4LlC3pmtTZydR
	8kA1txwx3hOXBmd2de5g5ObAw1HyWp3zGFKYx7cRWUT5lOhegZBJamt0OD9LxcPC4ThEmO
	L80Zlpw15osDuNnZZkt29pFXR9j4yP58ZZG+lsZhqZuEn1wM6vUmna54n3tIeWg0WOQcHe
	oCFgPSnr4kC4=
