from autograd_tutor.cli import main

raise SystemExit(main())
