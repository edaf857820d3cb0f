from tierline.cli.main import main

main()
