export { createEc2Driver, type Ec2DriverOptions } from "./driver.js";
