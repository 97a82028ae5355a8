from storylines.cli import main

main()
