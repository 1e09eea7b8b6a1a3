using EventLoop.Samples;

return CommandLineApp.Run(args, Console.Out, Console.Error);
