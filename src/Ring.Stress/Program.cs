Console.Error.WriteLine("Ring.Stress: not wired up yet.");
return 2;
