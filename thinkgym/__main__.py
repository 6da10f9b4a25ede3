from thinkgym.agents.cli import main

raise SystemExit(main())
