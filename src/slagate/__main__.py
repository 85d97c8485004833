from slagate.cli import main

main()
