using ContactGrains.LoadTest;

// contactgrains-load: see LoadCommands for the commands and their options, or run it with --help.
return await LoadCommands.RunAsync(args);
