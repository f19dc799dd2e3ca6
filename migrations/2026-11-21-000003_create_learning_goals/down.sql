DROP TABLE learning_goals;
