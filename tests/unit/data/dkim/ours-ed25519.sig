DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
	d=football.example.com; s=brisbane; t=1764380000; h=from:to:subject:
	date:message-id:from; bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
	b=DRahTQuQdOnBKtU5DPWIV4DreDFjHQ1VxoPOC3oEbqSBH8kf/rqfO7rdpp9bAcuxtnvT
	vo7MLemhyfSwgWI1Cw==
