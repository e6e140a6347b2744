CREATE DATABASE tracker OWNER buerger;
